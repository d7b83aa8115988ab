// The signed-in session: the API client with the token, and who it is (/whoami). A server run
// with --insecure-local needs no token: /whoami answers without one.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiClient } from "../api/client";
import { ApiError } from "../api/problem";
import type { Whoami } from "../api/types";
import { loadToken, saveToken } from "./token";

export interface Session {
  client: ApiClient;
  who: Whoami;
  signOut: () => void;
}

type State =
  | { phase: "checking" }
  | { phase: "signed-out"; error: ApiError | null }
  | { phase: "signed-in"; client: ApiClient; who: Whoami };

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside of a signed-in page");
  return session;
}

export interface SessionState {
  state: State;
  signIn: (token: string) => Promise<void>;
  signOut: () => void;
}

export function useSessionState(fetcher?: typeof fetch): SessionState {
  const [state, setState] = useState<State>({ phase: "checking" });
  const makeClient = useCallback(
    (token: string | null) => {
      // A token refused later (expired, revoked): back to the sign-in page, saying why.
      const onUnauthorized = (error: ApiError) => {
        saveToken(null);
        setState((now) => (now.phase === "signed-in" ? { phase: "signed-out", error } : now));
      };
      return new ApiClient(token, fetcher ? { fetcher, onUnauthorized } : { onUnauthorized });
    },
    [fetcher],
  );

  const attempt = useCallback(
    async (token: string | null, quiet: boolean) => {
      const client = makeClient(token);
      try {
        const who = await client.whoami();
        saveToken(token);
        setState({ phase: "signed-in", client, who });
      } catch (error) {
        if (token) saveToken(null);
        const shown = error instanceof ApiError && !(quiet && error.status === 401) ? error : null;
        setState({ phase: "signed-out", error: shown });
      }
    },
    [makeClient],
  );

  useEffect(() => {
    void attempt(loadToken(), true);
  }, [attempt]);

  const signIn = useCallback((token: string) => attempt(token.trim(), false), [attempt]);
  const signOut = useCallback(() => {
    saveToken(null);
    setState({ phase: "signed-out", error: null });
  }, []);
  return { state, signIn, signOut };
}

export function SessionProvider({ session, children }: { session: Session; children: ReactNode }) {
  const value = useMemo(() => session, [session]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
