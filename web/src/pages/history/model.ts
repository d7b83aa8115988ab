// The history page's logic, pure: what the fragment asks for, and whether a commit may be
// reverted by the viewer (and why not).
import type { PairCommit, Whoami } from "../../api/types";
import { can, type Verdict } from "../../auth/permissions";

export interface HistoryQuery {
  service: string;
  env: string;
  key: string;
}

export function historyQuery(rest: string[], query: URLSearchParams): HistoryQuery {
  return { service: rest[0] ?? "", env: rest[1] ?? "", key: (query.get("key") ?? "").trim() };
}

/** May `who` open the revert of `commit`? The server asks `edit` on every pair the revert
 * touches; here the pair shown is what the dashboard knows. A first commit has nothing to go
 * back to. */
export function revertVerdict(who: Whoami, q: HistoryQuery, commit: PairCommit): Verdict {
  if (commit.parents.length === 0) return { allowed: false, reason: "the first commit of the branch cannot be reverted" };
  return can(who, "edit", `${q.service}@${q.env}`);
}

/** "3 keys changed" / "replicas changed" for a commit's summary. */
export function changeSummary(commit: PairCommit): string {
  const n = commit.changes.length;
  if (n === 1) return `${commit.changes[0]?.path ?? ""} ${commit.changes[0]?.kind ?? ""}`;
  return `${n} keys changed`;
}

export function when(iso: string): string {
  return iso.replace("T", " ").replace(/(\d\d:\d\d):\d\d.*$/, "$1");
}
