// The application's shell: the session (sign-in unless the server needs none), the header with
// the navigation, and the page of the route, loaded lazily.
import { Suspense, useEffect } from "react";
import { SignIn } from "./auth/SignIn";
import { SessionProvider, useSessionState } from "./auth/session";
import { describe } from "./auth/permissions";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { DEFAULT_PAGE, PAGES, pageOf } from "./pages/registry";
import { hrefOf, useRoute } from "./router";

export function App({ fetcher }: { fetcher?: typeof fetch }) {
  const { state, signIn, signOut } = useSessionState(fetcher);
  const route = useRoute();
  const page = pageOf(route.page || DEFAULT_PAGE);

  useEffect(() => {
    document.title = page ? `${page.title} · cfgctl` : "cfgctl";
  }, [page]);

  if (state.phase === "checking") {
    return (
      <main className="loading" aria-busy="true">
        <p>Connecting to the server…</p>
      </main>
    );
  }
  if (state.phase === "signed-out") return <SignIn error={state.error} onSignIn={signIn} />;

  const session = { client: state.client, who: state.who, signOut };
  return (
    <SessionProvider session={session}>
      <a className="skip" href="#content">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">cfgctl</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.filter((p) => p.nav).map((p) => (
              <li key={p.name}>
                <a href={hrefOf(p.name)} aria-current={p.name === page?.section ? "page" : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who" title={state.who.scopes.join(", ") || undefined}>
          {describe(state.who)}
        </span>
        {!state.who.insecure_local && (
          <button type="button" className="link" onClick={signOut}>
            Sign out
          </button>
        )}
      </header>
      <div id="content" tabIndex={-1} className="content">
        <ErrorBoundary key={route.page}>
          <Suspense fallback={<p aria-busy="true">Loading…</p>}>
            {page ? (
              <page.component route={route} />
            ) : (
              <main>
                <h1>No such page</h1>
                <p>
                  <a href={hrefOf(DEFAULT_PAGE)}>Go to the overview</a>
                </p>
              </main>
            )}
          </Suspense>
        </ErrorBoundary>
      </div>
    </SessionProvider>
  );
}
