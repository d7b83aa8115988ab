// The rollout of a merged change request, refreshed every few seconds while it is shown:
// the agents' targets of the pairs it changed, converged, pending, stuck or rolled back.
import { useEffect, useState } from "react";
import type { Rollout } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorMessage } from "../../components/ErrorMessage";
import { plural, short, summarizeRollout } from "./model";

export const ROLLOUT_POLL_MS = 2000;

export function RolloutView({ commit, pairs }: { commit: string; pairs: string[] }) {
  const { client } = useSession();
  const [rollout, setRollout] = useState<Rollout | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [checked, setChecked] = useState<Date | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = () => {
      client.rollout(commit, abort.signal).then(
        (doc) => {
          setRollout(doc);
          setError(null);
          setChecked(new Date());
          timer = setTimeout(poll, ROLLOUT_POLL_MS);
        },
        (e: unknown) => {
          if (abort.signal.aborted) return;
          setError(e);
          timer = setTimeout(poll, ROLLOUT_POLL_MS * 3);
        },
      );
    };
    poll();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [client, commit]);

  const summary = rollout ? summarizeRollout(rollout, pairs) : null;
  return (
    <section aria-labelledby="rollout-title" className="panel">
      <h2 id="rollout-title">Rollout of {short(commit)}</h2>
      {error ? <ErrorMessage error={error} /> : null}
      {!summary && !error && <p aria-busy="true">Asking the agents' reports…</p>}
      {summary && (
        <>
          <p role="status" aria-live="polite">
            {summary.targets.length === 0
              ? "No agent reports a target of these configurations yet."
              : `${summary.converged} of ${plural(summary.targets.length, "target")} converged` +
                (summary.pending ? `, ${summary.pending} pending` : "") +
                (summary.stuck ? `, ${summary.stuck} stuck` : "") +
                (summary.rolledBack ? `, ${summary.rolledBack} rolled back` : "") +
                "."}
            {checked ? <span className="meta"> Checked {checked.toLocaleTimeString()}; refreshed every {ROLLOUT_POLL_MS / 1000} s.</span> : null}
          </p>
          {summary.targets.length > 0 && (
            <ul className="targets">
              {summary.targets.map((t) => (
                <li key={`${t.agent}/${t.target}`} className={`target ${t.kind}`}>
                  <span className="pill">{t.kind}</span> <code>{t.target}</code> ({t.service}@{t.env}, agent {t.agent}
                  {t.stale ? ", stale" : ""}): runs {short(t.commit)}
                  {t.why ? ` — ${t.why}` : ""}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
