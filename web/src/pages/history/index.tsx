// History (/#/history/SERVICE/ENV?key=KEY): the commits that changed a configuration, or one
// key of it, each with its diff, author and change request; "Revert" opens a change request
// that undoes one commit.
import { useEffect, useState, type FormEvent } from "react";
import type { PairCommit, PairCommits, Whoami } from "../../api/types";
import type { Verdict } from "../../auth/permissions";
import { useSession } from "../../auth/session";
import { ErrorMessage } from "../../components/ErrorMessage";
import { hrefOf } from "../../router";
import { KeyTable } from "../changes/DiffTable";
import "../changes/changes.css";
import type { PageProps } from "../registry";
import { changeSummary, historyQuery, revertVerdict, when, type HistoryQuery } from "./model";

function Picker({ q }: { q: HistoryQuery }) {
  const { client } = useSession();
  const [services, setServices] = useState<string[]>([]);
  const [envs, setEnvs] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [service, setService] = useState(q.service);
  const [env, setEnv] = useState(q.env);
  const [key, setKey] = useState(q.key);

  useEffect(() => {
    const abort = new AbortController();
    Promise.all([client.names("services", abort.signal), client.names("environments", abort.signal)]).then(
      ([s, e]) => {
        setServices(s.items.map((i) => i.name));
        setEnvs(e.items.filter((i) => !i.abstract).map((i) => i.name));
      },
      (err: unknown) => {
        if (!abort.signal.aborted) setError(err);
      },
    );
    return () => abort.abort();
  }, [client]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (service && env) window.location.hash = hrefOf("history", [service, env], { key: key.trim() });
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="Choose a configuration">
      {error ? <ErrorMessage error={error} /> : null}
      <div className="field">
        <label htmlFor="history-service">Service</label>
        <select id="history-service" value={service} onChange={(e) => setService(e.target.value)} required>
          <option value="">choose…</option>
          {services.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="history-env">Environment</label>
        <select id="history-env" value={env} onChange={(e) => setEnv(e.target.value)} required>
          <option value="">choose…</option>
          {envs.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="history-key">Key (optional)</label>
        <input id="history-key" value={key} placeholder="db.pool_size" onChange={(e) => setKey(e.target.value)} />
      </div>
      <button type="submit">Show history</button>
    </form>
  );
}

function Commits({ q }: { q: HistoryQuery }) {
  const { client } = useSession();
  const [doc, setDoc] = useState<PairCommits | null>(null);
  const [who, setWho] = useState<Whoami | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [failed, setFailed] = useState<{ commit: string; error: unknown } | null>(null);
  const [busy, setBusy] = useState("");
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    setError(null);
    setDoc(null);
    Promise.all([client.commits(q.service, q.env, q.key, abort.signal), client.whoami([`${q.service}@${q.env}`], abort.signal)]).then(
      ([found, me]) => {
        setDoc(found);
        setWho(me);
      },
      (e: unknown) => {
        if (!abort.signal.aborted) setError(e);
      },
    );
    return () => abort.abort();
  }, [client, q.service, q.env, q.key, attempt]);

  const revert = async (commit: string) => {
    setBusy(commit);
    setFailed(null);
    try {
      const opened = await client.revert(commit);
      window.location.hash = hrefOf("change", [String(opened.id)]);
    } catch (e) {
      setFailed({ commit, error: e });
    } finally {
      setBusy("");
    }
  };

  if (error) return <ErrorMessage error={error} onRetry={() => setAttempt((n) => n + 1)} />;
  if (!doc || !who) return <p aria-busy="true">Reading the history…</p>;
  return (
    <>
      <p className="count" role="status">
        {doc.commits.length === 0
          ? "No commit changed it."
          : `${doc.commits.length} commit${doc.commits.length === 1 ? "" : "s"} changed ${q.key ? `${q.key} of ` : ""}${q.service}@${q.env}, newest first.`}
      </p>
      <ol className="commits">
        {doc.commits.map((c) => (
          <CommitItem
            key={c.commit}
            c={c}
            q={q}
            verdict={revertVerdict(who, q, c)}
            busy={busy}
            error={failed?.commit === c.commit ? failed.error : null}
            onRevert={revert}
          />
        ))}
      </ol>
    </>
  );
}

interface CommitProps {
  c: PairCommit;
  q: HistoryQuery;
  verdict: Verdict;
  busy: string; // the commit being reverted, or ""
  error: unknown;
  onRevert: (commit: string) => Promise<void>;
}

/** One commit: subject, author, date, change request, its diff, and Revert. */
function CommitItem({ c, q, verdict, busy, error, onRevert }: CommitProps) {
  const reasonId = `why-revert-${c.commit.slice(0, 12)}`;
  const headingId = `commit-${c.commit.slice(0, 12)}`;
  return (
    <li className="commit">
      <article aria-labelledby={headingId}>
        <h2 id={headingId}>{c.subject || "(no message)"}</h2>
        <div className="row meta">
          <code title={c.commit}>{c.commit.slice(0, 7)}</code>
          <span>
            by {c.author}, {when(c.date)}
          </span>
          {c.change_request ? (
            <a href={hrefOf("change", [String(c.change_request.id)])}>change request #{c.change_request.id}</a>
          ) : (
            <span>committed directly</span>
          )}
        </div>
        <KeyTable changes={c.changes} caption={`${changeSummary(c)} in ${q.service}@${q.env}`} />
        <div className="action">
          <button
            type="button"
            disabled={!verdict.allowed || busy !== ""}
            aria-describedby={verdict.allowed ? undefined : reasonId}
            aria-label={`Revert ${c.commit.slice(0, 7)}: ${c.subject}`}
            title={verdict.allowed ? "Open a change request that undoes this commit" : verdict.reason}
            onClick={() => void onRevert(c.commit)}
          >
            {busy === c.commit ? "Opening…" : "Revert"}
          </button>
          {!verdict.allowed && (
            <span id={reasonId} className="why">
              {verdict.reason}
            </span>
          )}
        </div>
        {error ? <ErrorMessage error={error} /> : null}
      </article>
    </li>
  );
}

export default function HistoryPage({ route }: PageProps) {
  const q = historyQuery(route.rest, route.query);
  const chosen = q.service !== "" && q.env !== "";
  return (
    <main aria-labelledby="history-title">
      <h1 id="history-title">History{chosen ? ` of ${q.key ? `${q.key} in ` : ""}${q.service}@${q.env}` : ""}</h1>
      <Picker key={`${q.service}/${q.env}/${q.key}`} q={q} />
      {chosen ? <Commits q={q} /> : <p className="meta">Choose a service and an environment (and a key, to follow one value).</p>}
    </main>
  );
}
