// The overview's rows: one per service, one cell per environment, from /api/v1/overview; and
// the filters (owner, environment, text, problems only). Pure functions: tested on their own.
import type { Overview, OverviewAgents, OverviewChange } from "../../api/types";

export interface Cell {
  env: string;
  readable: boolean; // false: the signed-in token may not read this pair (counts are 0)
  errors: number;
  warnings: number;
  changes: OverviewChange[]; // open change requests that edit this pair
  agents: OverviewAgents[]; // what the agents' targets of this pair run, one per commit
}

export interface Row {
  service: string;
  owners: string[];
  cells: Cell[]; // in the order of Overview.environments
  problems: boolean; // an error, a warning, a stuck target somewhere
  search: string; // lower-cased name and owners, for the text filter
}

export interface Filters {
  owner: string; // "" for every owner
  env: string; // "" for every environment
  text: string;
  problemsOnly: boolean;
}

export const NO_FILTERS: Filters = { owner: "", env: "", text: "", problemsOnly: false };

export function buildRows(doc: Overview): Row[] {
  const changes = new Map<string, OverviewChange[]>();
  for (const change of doc.changes) {
    for (const pair of change.pairs) push(changes, pair, change);
  }
  const agents = new Map<string, OverviewAgents[]>();
  for (const row of doc.agents) push(agents, `${row.service}@${row.env}`, row);
  return doc.services.map((service) => {
    const cells = doc.environments.map((env, i) => {
      const pair = `${service.name}@${env}`;
      const errors = service.errors[i];
      return {
        env,
        readable: errors !== null && errors !== undefined,
        errors: errors ?? 0,
        warnings: service.warnings[i] ?? 0,
        changes: changes.get(pair) ?? [],
        agents: agents.get(pair) ?? [],
      };
    });
    const problems = cells.some((c) => c.errors > 0 || c.warnings > 0 || c.agents.some((a) => a.stuck > 0));
    const search = [service.name, ...service.owners].join(" ").toLowerCase();
    return { service: service.name, owners: service.owners, cells, problems, search };
  });
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The rows the filters keep, and the environments (columns) they show. */
export function applyFilters(rows: Row[], environments: string[], filters: Filters): { rows: Row[]; columns: number[] } {
  const columns = environments.map((_, i) => i).filter((i) => !filters.env || environments[i] === filters.env);
  const words = filters.text.toLowerCase().split(/\s+/).filter(Boolean);
  const kept = rows.filter((row) => {
    if (filters.owner && !row.owners.includes(filters.owner)) return false;
    if (words.length && !words.every((w) => row.search.includes(w))) return false;
    if (filters.problemsOnly && !columns.some((i) => cellHasProblem(row.cells[i]))) return false;
    return true;
  });
  return { rows: kept, columns };
}

function cellHasProblem(cell: Cell | undefined): boolean {
  return !!cell && (cell.errors > 0 || cell.warnings > 0 || cell.agents.some((a) => a.stuck > 0));
}

export function ownersOf(rows: Row[]): string[] {
  const owners = new Set<string>();
  for (const row of rows) for (const owner of row.owners) owners.add(owner);
  return [...owners].sort();
}

export type CellState = "valid" | "invalid" | "warning" | "hidden";

export function stateOf(cell: Cell): CellState {
  if (!cell.readable) return "hidden";
  if (cell.errors > 0) return "invalid";
  if (cell.warnings > 0) return "warning";
  return "valid";
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function short(commit: string | null): string {
  return commit ? commit.slice(0, 7) : "unknown";
}

/** The cell said in words, for screen readers and titles. */
export function describeCell(service: string, cell: Cell, head: string): string {
  const parts = [`${service} in ${cell.env}`];
  if (!cell.readable) return `${parts[0]}: not shown, your token may not read it`;
  if (cell.errors) parts.push(`invalid, ${plural(cell.errors, "error")}`);
  else if (cell.warnings) parts.push(`valid with ${plural(cell.warnings, "warning")}`);
  else parts.push("valid");
  if (cell.changes.length) {
    parts.push(`${plural(cell.changes.length, "pending change request")} (${cell.changes.map((c) => `#${c.id}`).join(", ")})`);
  }
  for (const agent of cell.agents) {
    const at = agent.commit === head ? "the head" : short(agent.commit);
    let text = `${plural(agent.targets, "target")} run ${at}`;
    if (agent.stuck) text += `, ${agent.stuck} stuck`;
    if (agent.stale) text += `, ${agent.stale} stale`;
    parts.push(text);
  }
  return parts.join("; ");
}
