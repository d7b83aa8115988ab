// The Compare page (/#/compare/SERVICE?env=staging&env=prod, or ?env=prod&rev=A&rev=B): two or
// more environments (or two commits) side by side, for one service or every service; the keys
// that differ by default, every key with the toggle; each value with its layer and file:line;
// and "make prod like staging for these keys", which opens a promotion change request.
import { useCallback, useEffect, useMemo, useState } from "react";
import type { CompareDocument } from "../../api/types";
import { useSession } from "../../auth/session";
import { ErrorMessage } from "../../components/ErrorMessage";
import type { PageProps } from "../registry";
import "./compare.css";
import { Controls, pair } from "./Controls";
import { PromoteBar } from "./PromoteBar";
import { ServiceTable } from "./ServiceTable";
import { apiQuery, hrefOfQuery, incomplete, promotable, queryOf, sideLabels, totals, type CompareQuery } from "./model";

function useLists() {
  const { client } = useSession();
  const [environments, setEnvironments] = useState<string[] | null>(null);
  const [services, setServices] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const abort = new AbortController();
    client.environments(abort.signal).then(
      (page) => setEnvironments(page.items.filter((e) => !e.abstract).map((e) => e.name)),
      (e: unknown) => !abort.signal.aborted && setError(e),
    );
    client.get<{ items: { name: string }[] }>("/services", { limit: "1000" }, abort.signal).then(
      (page) => setServices(page.items.map((s) => s.name)),
      () => undefined, // the list helps choose; the comparison says what is wrong
    );
    return () => abort.abort();
  }, [client]);
  return { environments, services, error };
}

/** The comparison `query` asks for (null while it loads or cannot be asked), its error, and
 * the next page of services on demand. */
function useComparison(query: CompareQuery, missing: string | null) {
  const { client } = useSession();
  const [doc, setDoc] = useState<CompareDocument | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [loadingMore, setLoadingMore] = useState(false);
  const fetchKey = JSON.stringify(apiQuery(query));
  useEffect(() => {
    if (missing) return;
    const abort = new AbortController();
    setError(null);
    setDoc(null);
    client.compare(apiQuery(query), abort.signal).then(setDoc, (e: unknown) => {
      if (!abort.signal.aborted) setError(e);
    });
    return () => abort.abort();
  }, [client, fetchKey, attempt, missing]); // eslint-disable-line react-hooks/exhaustive-deps

  const more = async () => {
    if (!doc?.next_cursor) return;
    setLoadingMore(true);
    try {
      const next = await client.compare(apiQuery(query, doc.next_cursor));
      setDoc({ ...doc, items: [...doc.items, ...next.items], next_cursor: next.next_cursor });
    } catch (e) {
      setError(e);
    } finally {
      setLoadingMore(false);
    }
  };
  return { doc, error, retry: () => setAttempt((n) => n + 1), more, loadingMore };
}

function Summary({ doc, query, labels }: { doc: CompareDocument; query: CompareQuery; labels: string[] }) {
  const count = totals(doc.items);
  const differences = `${count.differences} difference${count.differences === 1 ? "" : "s"}`;
  const where = query.service
    ? query.service
    : `${count.services} service${count.services === 1 ? "" : "s"}${doc.next_cursor ? " so far" : ""}`;
  return (
    <p className="count" role="status" aria-live="polite">
      {differences} in {where} between {labels.join(", ")} at{" "}
      <code title={doc.sides[0]?.commit}>{doc.sides[0]?.commit.slice(0, 7)}</code>
      {query.everything ? "; every key shown." : "; differences only."}
    </p>
  );
}

export default function ComparePage({ route }: PageProps) {
  const key = `${route.rest.join("/")}?${route.query.toString()}`;
  const query = useMemo(() => queryOf(route.rest, route.query), [key]); // eslint-disable-line react-hooks/exhaustive-deps
  const lists = useLists();
  const missing = incomplete(query);
  const { doc, error, retry, more, loadingMore } = useComparison(query, missing);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  useEffect(() => setSelected(new Set()), [doc?.sides]);

  // A new history entry, and the route now (in the same render as the control's event: a
  // checkbox shows its new state at once, not after an asynchronous hashchange).
  const go = useCallback((next: CompareQuery, replace = false) => {
    window.history[replace ? "replaceState" : "pushState"](null, "", hrefOfQuery(next));
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  }, []);
  // No environments in the fragment: staging and prod (or the first two), in place.
  useEffect(() => {
    if (lists.environments && query.envs.length === 0) go({ ...query, envs: pair(lists.environments) }, true);
  }, [lists.environments, query, go]);

  const select = useCallback((ids: string[], on: boolean) => {
    setSelected((now) => {
      const next = new Set(now);
      for (const id of ids) {
        if (on) next.add(id);
        else next.delete(id);
      }
      return next;
    });
  }, []);

  const labels = useMemo(() => (doc ? sideLabels(doc.sides) : []), [doc]);
  const envs = useMemo(() => (doc ? promotable(doc) : []), [doc]);

  return (
    <main className="compare" aria-labelledby="compare-title">
      <h1 id="compare-title">Compare</h1>
      {lists.error ? <ErrorMessage error={lists.error} /> : null}
      {lists.environments && <Controls query={query} environments={lists.environments} services={lists.services} onChange={go} />}
      {missing && <p className="empty">{missing}</p>}
      {error ? <ErrorMessage error={error} onRetry={retry} /> : null}
      {!missing && !doc && !error && <p aria-busy="true">Comparing…</p>}
      {doc && (
        <>
          <Summary doc={doc} query={query} labels={labels} />
          {envs.length > 0 && (
            <PromoteBar environments={envs} selected={selected} commit={doc.sides[0]?.commit ?? ""} onOpened={() => setSelected(new Set())} />
          )}
          {doc.items.map((item) => (
            <ServiceTable
              key={item.name}
              item={item}
              sides={doc.sides}
              labels={labels}
              everything={query.everything}
              selected={selected}
              canSelect={envs.length > 0}
              onSelect={select}
            />
          ))}
          {doc.items.length === 0 && <p className="empty">No service differs between these sides.</p>}
          {doc.next_cursor && (
            <button type="button" onClick={more} disabled={loadingMore}>
              {loadingMore ? "Loading…" : "Show more services"}
            </button>
          )}
        </>
      )}
    </main>
  );
}
