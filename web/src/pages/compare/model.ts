// The Compare page's model: pure functions over GET /compare's answer (no React, no fetch).
//
//   const query = queryOf(route);                 // what to compare, from the URL's fragment
//   const rows = shownRows(item, query.everything); // differences only unless everything
//   const body = promotionOf(selection, "staging", "prod", commit);
import type { CompareCell, CompareDocument, CompareRow, CompareService, CompareSide, PromotionRequest } from "../../api/types";
import type { Query } from "../../api/client";

export interface CompareQuery {
  service: string; // "" for every service
  envs: string[]; // two or more; or one, with two revs
  revs: string[]; // none (the branch head), one (every side), or two (one env, two commits)
  everything: boolean; // every key, not only those that differ
}

export type Mode = "environments" | "commits";

/** What to compare, from the route (/#/compare/SERVICE?env=staging&env=prod&all=1). */
export function queryOf(rest: string[], query: URLSearchParams): CompareQuery {
  return {
    service: rest[0] ?? "",
    envs: query.getAll("env").filter(Boolean),
    revs: query.getAll("rev").filter(Boolean),
    everything: query.get("all") === "1",
  };
}

export function modeOf(query: CompareQuery): Mode {
  return query.envs.length === 1 && query.revs.length === 2 ? "commits" : "environments";
}

/** The fragment of `query` (#/compare/payments?env=staging&env=prod). */
export function hrefOfQuery(query: CompareQuery): string {
  const params = new URLSearchParams();
  for (const env of query.envs) params.append("env", env);
  for (const rev of query.revs) params.append("rev", rev);
  if (query.everything) params.set("all", "1");
  const path = query.service ? `compare/${encodeURIComponent(query.service)}` : "compare";
  const search = params.toString();
  return `#/${path}${search ? `?${search}` : ""}`;
}

/** Why `query` cannot be asked yet (a sentence), or null when it can. */
export function incomplete(query: CompareQuery): string | null {
  if (modeOf(query) === "commits") {
    return query.revs[0] === query.revs[1] ? "Choose two different commits." : null;
  }
  if (query.envs.length < 2) return "Choose two or more environments to compare.";
  if (query.revs.length > 1) return "Compare two commits in one environment only.";
  return null;
}

/** The API's parameters for `query`. One service is asked with every key (the toggle then
 * filters without asking again); every service is asked as the toggle says. */
export function apiQuery(query: CompareQuery, cursor?: string): Query {
  return {
    env: query.envs,
    rev: query.revs.length ? query.revs : undefined,
    service: query.service || undefined,
    all: query.service || query.everything ? "true" : undefined,
    cursor,
  };
}

/** The heading of each side's column: the environment, or the commit asked for. */
export function sideLabels(sides: CompareSide[]): string[] {
  const envs = new Set(sides.map((s) => s.env));
  return sides.map((s) => (envs.size === sides.length ? s.env : `${s.env} at ${s.rev ?? "head"}`));
}

/** The rows shown: those that differ (or cannot be compared), every row with `everything`. */
export function shownRows(item: CompareService, everything: boolean): CompareRow[] {
  return everything ? item.rows : item.rows.filter((row) => row.status !== "same");
}

/** A value as text: strings as they are, anything else as JSON. */
export function formatValue(cell: CompareCell): string {
  if (!cell.present) return "not set";
  const value = cell.value;
  if (typeof value === "string") return value;
  return JSON.stringify(value ?? null);
}

/** Where a value comes from: "config/base/payments.yaml:5". */
export function whereOf(cell: CompareCell): string {
  if (!cell.present || !cell.file) return "";
  return cell.line ? `${cell.file}:${cell.line}` : cell.file;
}

/** The layer in words: "base, service layer" (inherited when `env` is not the side's). */
export function layerOf(cell: CompareCell, sideEnv: string): string {
  if (!cell.present || !cell.env) return "";
  const kind = cell.layer === "defaults" ? "defaults" : cell.layer === "secrets" ? "secrets" : "service";
  return cell.env === sideEnv ? `set in ${cell.env} (${kind})` : `inherited from ${cell.env} (${kind})`;
}

/** Whether the cell at `index` differs from the first side's (the reference), for highlighting. */
export function mismatches(row: CompareRow, index: number): boolean {
  if (row.status === "same" || index === 0) return false;
  const first = row.cells[0];
  const cell = row.cells[index];
  if (!first || !cell) return false;
  if (first.present !== cell.present) return true;
  if (row.status === "secret") return true; // not comparable: flagged, never claimed equal
  return JSON.stringify(first.value) !== JSON.stringify(cell.value);
}

/** How a row reads to a screen reader and in its status column. */
export function statusText(row: CompareRow): string {
  if (row.status === "same") return "same";
  if (row.status === "secret") return "secret, not compared";
  const missing = row.cells.filter((c) => !c.present).length;
  return missing ? `differs (not set on ${missing} side${missing > 1 ? "s" : ""})` : "differs";
}

// --- the selection and the promotion --------------------------------------------------------

/** A selected key: "SERVICE KEY" (a service name has no space). */
export function selectionId(service: string, key: string): string {
  return `${service} ${key}`;
}

export function parseSelection(id: string): { service: string; key: string } {
  const cut = id.indexOf(" ");
  return { service: id.slice(0, cut), key: id.slice(cut + 1) };
}

/** Whether a row may be selected for a promotion: it differs, and is no secret (the server
 * never moves a secret: PUT /secrets sets it). */
export function selectable(row: CompareRow): boolean {
  return row.status === "differs" && !row.secret;
}

/** The environments a promotion may go from and to: environment mode only. */
export function promotable(doc: CompareDocument): string[] {
  const envs = doc.sides.map((s) => s.env);
  return new Set(envs).size === envs.length && envs.length >= 2 ? envs : [];
}

/** The body of POST /promotions for the selected keys, in a stable order. */
export function promotionOf(selection: Iterable<string>, from: string, to: string, commit?: string): PromotionRequest {
  const keys = [...selection].sort().map(parseSelection);
  return commit ? { from, to, keys, commit } : { from, to, keys };
}

/** The whoami objects a promotion needs: read on SERVICE@FROM, edit on SERVICE@TO. */
export function objectsOf(selection: Iterable<string>, from: string, to: string): string[] {
  const services = [...new Set([...selection].map((id) => parseSelection(id).service))].sort();
  return services.flatMap((s) => [`${s}@${from}`, `${s}@${to}`]);
}

/** Counts for the summary line. */
export function totals(items: CompareService[]): { services: number; differences: number } {
  return { services: items.length, differences: items.reduce((n, item) => n + item.differences, 0) };
}
