// One change request (/#/change/ID): its diff, the rules that apply and who must approve, the
// checks, the reviews; approve, request changes, merge or reject as the viewer may; the rollout
// once merged.
import { useCallback, useEffect, useState } from "react";
import type { ReviewAction } from "../../api/client";
import type { ChangeImpact, ChangeRequest, Whoami } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorMessage } from "../../components/ErrorMessage";
import { hrefOf } from "../../router";
import { DiffTables } from "./DiffTable";
import { ACTIONS, actionVerdict, latestReviews, plural, reviewText, short } from "./model";
import { RolloutView } from "./Rollout";

interface Loaded {
  change: ChangeRequest;
  impact: ChangeImpact;
  who: Whoami;
}

const DONE: Record<ReviewAction, string> = {
  approve: "Approved",
  "request-changes": "Changes requested",
  merge: "Merged",
  reject: "Rejected",
};

export function ChangeView({ id }: { id: number }) {
  const { client } = useSession();
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [said, setSaid] = useState("");
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    setError(null);
    Promise.all([client.change(id, abort.signal), client.changeImpact(id, abort.signal)])
      .then(async ([change, impact]) => {
        const who = await client.whoami(impact.edits, abort.signal);
        setData({ change, impact, who });
      })
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setError(e);
      });
    return () => abort.abort();
  }, [client, id, attempt]);

  const act = useCallback(
    async (action: ReviewAction) => {
      setBusy(true);
      setActionError(null);
      setSaid("");
      try {
        const change = await client.review(id, action);
        setData((now) => (now ? { ...now, change } : now));
        setSaid(`${DONE[action]}: change request #${id} is ${change.state}.`);
      } catch (e) {
        setActionError(e);
      } finally {
        setBusy(false);
      }
    },
    [client, id],
  );

  if (error) return <ErrorMessage error={error} onRetry={() => setAttempt((n) => n + 1)} />;
  if (!data) return <p aria-busy="true">Loading change request #{id}…</p>;
  const { change, impact, who } = data;
  const verdict = change.verdict;
  const pairs = impact.pairs.map((p) => `${p.service}@${p.env}`);

  return (
    <article className="change" aria-labelledby="change-title">
      <p className="meta">
        <a href={hrefOf("changes")}>Change requests</a> / #{change.id}
      </p>
      <h1 id="change-title">
        #{change.id} {change.title} <span className={`pill state-${change.state}`}>{change.state}</span>
      </h1>
      <p className="meta">
        Opened by <strong>{change.author}</strong> on {change.opened.replace("T", " ").replace("Z", " UTC")} into{" "}
        <code>{change.base}</code>, head <code title={change.head}>{short(change.head)}</code>
        {change.merged ? (
          <>
            ; merged by {change.closed_by} as <code title={change.merged}>{short(change.merged)}</code>
          </>
        ) : null}
        {change.state === "rejected" ? `; rejected by ${change.closed_by}` : ""}.
      </p>

      <section aria-labelledby="actions-title" className="panel actions">
        <h2 id="actions-title">Review</h2>
        {verdict ? (
          <p className={`verdict ${verdict.state}`}>
            Policy verdict: <strong>{verdict.state}</strong> — {verdict.description}
          </p>
        ) : null}
        <ActionButtons who={who} change={change} impact={impact} busy={busy} act={act} />
        <p role="status" aria-live="polite" className="said">
          {said}
        </p>
        {actionError ? <ErrorMessage error={actionError} /> : null}
      </section>

      {change.merged ? <RolloutView commit={change.merged} pairs={pairs} /> : null}

      <section aria-labelledby="diff-title" className="panel">
        <h2 id="diff-title">What changes ({plural(impact.pairs.length, "configuration")})</h2>
        {impact.hidden > 0 && (
          <p className="meta">{plural(impact.hidden, "more configuration")} you may not read also change.</p>
        )}
        <DiffTables pairs={impact.pairs} />
      </section>

      <RulesPanel change={change} />
      <ChecksPanel change={change} impact={impact} />
    </article>
  );
}

function RulesPanel({ change }: { change: ChangeRequest }) {
  const plan = change.plan;
  const verdict = change.verdict;
  const reviews = latestReviews(change.reviews);
  return (
    <section aria-labelledby="rules-title" className="panel">
      <h2 id="rules-title">Rules and approvals</h2>
      {plan ? (
        <>
          {plan.risk.length > 0 && <p>Risk: {plan.risk.join(", ")}.</p>}
          {plan.freezes.map((f) => (
            <p key={f} className="verdict failure">
              Freeze in force: {f}
            </p>
          ))}
          <ul className="rules">
            {plan.rules.filter((r) => r.applies).map((r) => {
              const req = verdict?.requirements.filter((q) => q.rule === r.name || q.rule.startsWith(`${r.name} `)) ?? [];
              return (
                <li key={r.name}>
                  <strong>{r.name}</strong>: {r.why}
                  {req.map((q) => (
                    <div key={q.rule} className={q.met ? "met" : "unmet"}>
                      {q.met ? "✓ met" : "✗ not met"}: {q.require} — approved by {q.approvers.join(", ") || "nobody yet"}
                    </div>
                  ))}
                </li>
              );
            })}
          </ul>
          {plan.rules.every((r) => !r.applies) && <p>{plan.policy ? "No rule of policy.yaml applies." : "No policy.yaml: no approval rule."}</p>}
        </>
      ) : (
        <p className="meta">The change request is {change.state}: no rule applies any more.</p>
      )}
      <h3>Reviews</h3>
      {reviews.length ? (
        <ul>
          {reviews.map((r) => (
            <li key={r.user}>
              {reviewText(r, change.head)} <span className="meta">{r.time.replace("T", " ").replace("Z", " UTC")}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="meta">No review yet.</p>
      )}
    </section>
  );
}

function ChecksPanel({ change, impact }: { change: ChangeRequest; impact: ChangeImpact }) {
  const plan = change.plan;
  return (
    <section aria-labelledby="checks-title" className="panel">
      <h2 id="checks-title">Checks</h2>
      <p className={impact.checks.ok ? "verdict success" : "verdict failure"}>
        {impact.checks.ok
          ? `Valid: the configurations it changes pass their schemas${impact.checks.warnings ? ` (${plural(impact.checks.warnings, "warning")})` : ""}.`
          : `${plural(impact.checks.errors, "error")} in the configurations it changes.`}
      </p>
      {impact.checks.diagnostics.length > 0 && (
        <ul>
          {impact.checks.diagnostics.map((d, i) => (
            <li key={i} className={d.severity}>
              {d.file ? `${d.file}${d.line ? `:${d.line}` : ""}: ` : ""}
              {d.message}
            </li>
          ))}
        </ul>
      )}
      {plan && plan.files.length > 0 && (
        <p className="meta">
          Files: {plan.files.map((f) => <code key={f}>{f} </code>)}
        </p>
      )}
    </section>
  );
}

interface ActionProps {
  who: Whoami;
  change: ChangeRequest;
  impact: ChangeImpact;
  busy: boolean;
  act: (action: ReviewAction) => Promise<void>;
}

/** The four actions, each disabled with its reason (its accessible description) when refused. */
function ActionButtons({ who, change, impact, busy, act }: ActionProps) {
  return (
    <div className="buttons">
      {ACTIONS.map(({ action, label }) => {
        const v = actionVerdict(who, change, impact, action);
        const reasonId = `why-${action}`;
        return (
          <div key={action} className="action">
            <button
              type="button"
              disabled={busy || !v.allowed}
              aria-describedby={v.allowed ? undefined : reasonId}
              title={v.allowed ? undefined : v.reason}
              onClick={() => void act(action)}
              className={action === "merge" ? "primary" : undefined}
            >
              {label}
            </button>
            {!v.allowed && (
              <span id={reasonId} className="why">
                {v.reason}
              </span>
            )}
          </div>
        );
      })}
    </div>
  );
}
