// The sign-in form: an API token, pasted. It is sent in the Authorization header only.
import { useId, useState, type FormEvent } from "react";
import type { ApiError } from "../api/problem";
import { ErrorMessage } from "../components/ErrorMessage";
import { tokenProblem } from "./token";

export function SignIn({ error, onSignIn }: { error: ApiError | null; onSignIn: (token: string) => Promise<void> }) {
  const [token, setToken] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const why = tokenProblem(token);
    setProblem(why);
    if (why) return;
    setBusy(true);
    try {
      await onSignIn(token);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin" aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>Sign in to cfgctl</h1>
      <p>
        Paste an API token. An administrator creates one with{" "}
        <code>cfgctl serve token create --name YOU --role viewer --scope '*'</code>. It is kept in this tab only.
      </p>
      <form onSubmit={submit} noValidate>
        <label htmlFor={`${id}-token`}>API token</label>
        <input
          id={`${id}-token`}
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${id}-problem` : undefined}
          onChange={(e) => setToken(e.target.value)}
        />
        {problem && (
          <p id={`${id}-problem`} className="field-error" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {error && <ErrorMessage error={error} />}
    </main>
  );
}
