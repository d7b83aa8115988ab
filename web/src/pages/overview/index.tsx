// The Overview page (/#/overview): every service in every environment, filtered by owner,
// environment and text; the filters live in the URL's fragment, so a filtered view can be shared.
import { useCallback, useDeferredValue, useEffect, useMemo, useState } from "react";
import type { Overview } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorMessage } from "../../components/ErrorMessage";
import { hrefOf } from "../../router";
import type { PageProps } from "../registry";
import { FilterBar } from "./Filters";
import { Grid } from "./Grid";
import { applyFilters, buildRows, ownersOf, plural, type Filters } from "./model";

function filtersOf(query: URLSearchParams): Filters {
  return {
    owner: query.get("owner") ?? "",
    env: query.get("env") ?? "",
    text: query.get("q") ?? "",
    problemsOnly: query.get("problems") === "1",
  };
}

export default function OverviewPage({ route }: PageProps) {
  const { client } = useSession();
  const [doc, setDoc] = useState<Overview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [filters, setFilters] = useState<Filters>(() => filtersOf(route.query));
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    setError(null);
    client.overview(abort.signal).then(setDoc, (e: unknown) => {
      if (!abort.signal.aborted) setError(e);
    });
    return () => abort.abort();
  }, [client, attempt]);

  const change = useCallback((next: Filters) => {
    setFilters(next);
    const query = { owner: next.owner, env: next.env, q: next.text, problems: next.problemsOnly ? "1" : "" };
    window.history.replaceState(null, "", hrefOf("overview", [], query));
  }, []);

  const rows = useMemo(() => (doc ? buildRows(doc) : []), [doc]);
  const owners = useMemo(() => ownersOf(rows), [rows]);
  const deferred = useDeferredValue(filters);
  const shown = useMemo(() => applyFilters(rows, doc?.environments ?? [], deferred), [rows, doc, deferred]);

  return (
    <main className="overview" aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      {error ? <ErrorMessage error={error} onRetry={() => setAttempt((n) => n + 1)} /> : null}
      {!doc && !error && <p aria-busy="true">Loading the overview…</p>}
      {doc && (
        <>
          <p className="summary">
            {plural(doc.services.length, "service")} in {plural(doc.environments.length, "environment")} at{" "}
            <code title={doc.commit}>{doc.commit.slice(0, 7)}</code>:{" "}
            {doc.ok ? "every configuration is valid" : `${plural(doc.errors, "error")}`}
            {doc.warnings ? `, ${plural(doc.warnings, "warning")}` : ""}
            {doc.changes.length ? `, ${plural(doc.changes.length, "open change request")}` : ""}.
          </p>
          {doc.problems.length > 0 && (
            <ul className="problems" aria-label="Problems of the repository">
              {doc.problems.map((p, i) => (
                <li key={i} className={p.severity}>
                  {p.file ? `${p.file}${p.line ? `:${p.line}` : ""}: ` : ""}
                  {p.message}
                </li>
              ))}
            </ul>
          )}
          <FilterBar filters={filters} owners={owners} environments={doc.environments} onChange={change} />
          <p className="count" role="status" aria-live="polite">
            {shown.rows.length === rows.length
              ? `Showing all ${plural(rows.length, "service")}`
              : `Showing ${shown.rows.length} of ${plural(rows.length, "service")}`}
          </p>
          {shown.rows.length > 0 ? (
            <Grid
              rows={shown.rows}
              columns={shown.columns}
              environments={doc.environments}
              head={doc.commit}
              label="Services by environment"
            />
          ) : (
            <p className="empty">No service matches these filters.</p>
          )}
        </>
      )}
    </main>
  );
}
