// The change requests (/#/changes?state=open): newest first, filtered by state.
import { useEffect, useState } from "react";
import type { ChangeRequest, ChangeState } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorMessage } from "../../components/ErrorMessage";
import { hrefOf } from "../../router";
import { plural } from "./model";

const STATES: (ChangeState | "")[] = ["open", "merged", "rejected", ""];

export function ChangeList({ state: initial }: { state: string }) {
  const { client } = useSession();
  const [state, setState] = useState<ChangeState | "">(STATES.includes(initial as ChangeState) ? (initial as ChangeState) : "open");
  const [items, setItems] = useState<ChangeRequest[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    setError(null);
    setItems(null);
    client.changes(state || undefined, abort.signal).then(
      (page) => setItems([...page.items].reverse()),
      (e: unknown) => {
        if (!abort.signal.aborted) setError(e);
      },
    );
    return () => abort.abort();
  }, [client, state, attempt]);

  const choose = (next: ChangeState | "") => {
    setState(next);
    window.history.replaceState(null, "", hrefOf("changes", [], { state: next || "all" }));
  };

  return (
    <main className="changes" aria-labelledby="changes-title">
      <h1 id="changes-title">Change requests</h1>
      <div className="filters">
        <div className="field">
          <label htmlFor="change-state">State</label>
          <select id="change-state" value={state} onChange={(e) => choose(e.target.value as ChangeState | "")}>
            {STATES.map((s) => (
              <option key={s || "all"} value={s}>
                {s || "all"}
              </option>
            ))}
          </select>
        </div>
      </div>
      {error ? <ErrorMessage error={error} onRetry={() => setAttempt((n) => n + 1)} /> : null}
      {!items && !error && <p aria-busy="true">Loading the change requests…</p>}
      {items && (
        <>
          <p className="count" role="status">
            {plural(items.length, `${state ? `${state} ` : ""}change request`)}
          </p>
          <ul className="change-list">
            {items.map((c) => (
              <li key={c.id}>
                <a href={hrefOf("change", [String(c.id)])}>
                  #{c.id} {c.title}
                </a>{" "}
                <span className={`pill state-${c.state}`}>{c.state}</span>
                <span className="meta">
                  {" "}
                  by {c.author}, {c.opened.slice(0, 10)}
                  {c.reviews.length ? `, ${plural(c.reviews.length, "review")}` : ""}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </main>
  );
}
