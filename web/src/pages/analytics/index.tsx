// The Analytics page (/#/analytics/SERVICE/ENV?period=7d&window=30m): the metrics of a service
// in an environment (analytics.yaml), the deliveries to it and the change points marked on
// them, and each delivery's verdict (p-value, effect, interval), from
// GET /api/v1/analytics/SERVICE/ENV. Without analytics.yaml the page says so.
import { useEffect, useState, type FormEvent } from "react";
import { useSession } from "../../auth/session";
import { ErrorMessage } from "../../components/ErrorMessage";
import { hrefOf } from "../../router";
import type { PageProps } from "../registry";
import { Chart } from "./Chart";
import { PERIODS, WINDOWS, formatTime, queryOf, short, type AnalyticsDoc } from "./model";
import { DataTable, EventTable, ImpactTable } from "./Tables";
import "./analytics.css";

interface Named {
  name: string;
  abstract?: boolean;
}

export default function AnalyticsPage({ route }: PageProps) {
  const [service, env] = route.rest;
  return (
    <main className="analytics" aria-labelledby="analytics-title">
      <h1 id="analytics-title">{service && env ? `Analytics of ${service} in ${env}` : "Analytics"}</h1>
      <Picker service={service ?? ""} env={env ?? ""} query={route.query} />
      {service && env ? <PairView key={`${service}@${env}?${route.query.toString()}`} service={service} env={env} query={route.query} /> : null}
    </main>
  );
}

function Picker({ service, env, query }: { service: string; env: string; query: URLSearchParams }) {
  const { client } = useSession();
  const [services, setServices] = useState<string[]>([]);
  const [envs, setEnvs] = useState<string[]>([]);
  const [choice, setChoice] = useState({ service, env, period: query.get("period") ?? "7d", window: query.get("window") ?? "30m" });
  useEffect(() => {
    const abort = new AbortController();
    const limit = { limit: "1000" };
    client.get<{ items: Named[] }>("/services", limit, abort.signal).then((p) => setServices(p.items.map((s) => s.name)), () => undefined);
    client.get<{ items: Named[] }>("/environments", limit, abort.signal).then(
      (p) => setEnvs(p.items.filter((e) => !e.abstract).map((e) => e.name)),
      () => undefined,
    );
    return () => abort.abort();
  }, [client]);
  function show(event: FormEvent) {
    event.preventDefault();
    if (!choice.service || !choice.env) return;
    window.location.hash = hrefOf("analytics", [choice.service, choice.env], { period: choice.period, window: choice.window });
  }
  const set = (key: keyof typeof choice) => (e: { target: { value: string } }) => setChoice((c) => ({ ...c, [key]: e.target.value }));
  return (
    <form className="filters picker" onSubmit={show} aria-label="Choose what to show">
      <div className="field">
        <label htmlFor="an-service">Service</label>
        <select id="an-service" value={choice.service} onChange={set("service")}>
          <option value="">(choose)</option>
          {(services.includes(service) || !service ? services : [service, ...services]).map((s) => (
            <option key={s} value={s}>{s}</option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="an-env">Environment</label>
        <select id="an-env" value={choice.env} onChange={set("env")}>
          <option value="">(choose)</option>
          {(envs.includes(env) || !env ? envs : [env, ...envs]).map((e) => (
            <option key={e} value={e}>{e}</option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="an-period">Period</label>
        <select id="an-period" value={choice.period} onChange={set("period")}>
          {Object.keys(PERIODS).map((p) => (
            <option key={p} value={p}>last {p}</option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="an-window">Judged window</label>
        <select id="an-window" value={choice.window} onChange={set("window")}>
          {WINDOWS.map((w) => (
            <option key={w} value={w}>{w} before and after</option>
          ))}
        </select>
      </div>
      <button type="submit" disabled={!choice.service || !choice.env}>
        Show
      </button>
    </form>
  );
}

function PairView({ service, env, query }: { service: string; env: string; query: URLSearchParams }) {
  const { client } = useSession();
  const [doc, setDoc] = useState<AnalyticsDoc | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const search = query.toString(); // a new URLSearchParams each render: compare its text
  useEffect(() => {
    const abort = new AbortController();
    setError(null);
    const path = `/analytics/${encodeURIComponent(service)}/${encodeURIComponent(env)}`;
    client.get<AnalyticsDoc>(path, queryOf(new URLSearchParams(search), Date.now()), abort.signal).then(setDoc, (e: unknown) => {
      if (!abort.signal.aborted) setError(e);
    });
    return () => abort.abort();
  }, [client, service, env, search, attempt]);
  if (error) return <ErrorMessage error={error} onRetry={() => setAttempt((n) => n + 1)} />;
  if (!doc) return <p aria-busy="true">Reading the metrics…</p>;
  if (!doc.configured) {
    return (
      <div className="notice" role="status">
        <strong>No metrics configured.</strong> {doc.reason}. Add analytics.yaml at the repository's root to name a
        metrics source (CSV or JSON files, or Prometheus) and the metrics: see docs/analytics.md.
      </div>
    );
  }
  return <Report doc={doc} />;
}

function Report({ doc }: { doc: AnalyticsDoc }) {
  return (
    <>
      <p className="summary">
        {doc.start !== undefined && doc.end !== undefined ? `${formatTime(doc.start)} to ${formatTime(doc.end)} (UTC), ` : ""}
        metrics from {doc.source === "files" ? "files" : "Prometheus"}; {doc.deliveries.length} deliver
        {doc.deliveries.length === 1 ? "y" : "ies"} in the period.
      </p>
      {doc.notes.length > 0 && (
        <ul className="notes" aria-label="Notes">
          {doc.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <p className="legend" aria-hidden="true">
        <span className="key delivery">solid: a delivery (its commit)</span> <span className="key shift">dashed: a change point</span>
      </p>
      {doc.metrics.map((m) => (
        <section key={m.name} className="metric" aria-labelledby={`metric-${m.name}`}>
          <h2 id={`metric-${m.name}`}>
            {m.name} <small>({m.direction === "higher_is_worse" ? "higher is worse" : "higher is better"}{m.critical ? ", critical" : ""})</small>
          </h2>
          {m.problem && <p className="field-error">{m.problem}</p>}
          {m.series.map((s) => (
            <figure key={`${s.scope}/${s.name}`}>
              <Chart metric={m} series={s} deliveries={doc.deliveries} />
              <figcaption>
                {s.scope} · {s.name} · {s.points} points{s.dropped ? ` (${s.dropped} missing)` : ""}
              </figcaption>
              <EventTable series={s} deliveries={doc.deliveries} label={`Change points and deliveries of ${m.name} (${s.name})`} />
              <DataTable series={s} label={`Every point of ${m.name} (${s.name})`} />
            </figure>
          ))}
          {m.more > 0 && <p className="empty">{m.more} more series not shown.</p>}
        </section>
      ))}
      <section aria-labelledby="impacts-title">
        <h2 id="impacts-title">The impact of each delivery</h2>
        {doc.impacts.length === 0 ? (
          <p className="empty">No delivery to judge in the period.</p>
        ) : (
          doc.impacts.map((i) => (
            <section key={i.commit} className="impact" aria-label={`Commit ${short(i.commit)}`}>
              <h3>
                Commit <code title={i.commit}>{short(i.commit)}</code>
              </h3>
              <ImpactTable impact={i} />
            </section>
          ))
        )}
        <p className="help">
          Each metric's {(doc.window_seconds ?? 0) / 60}-minute window after the delivery is compared with the one before
          (Mann-Whitney, 98% confidence); the effect is the Hodges-Lehmann estimate in the metric's unit, with its
          interval; MDE is the smallest shift these windows could have shown. Inconclusive is never a pass.
        </p>
      </section>
    </>
  );
}
