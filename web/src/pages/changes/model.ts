// The change request page's logic, pure: which actions the viewer may take (and why not), the
// reviews that count, the rollout of the merged commit, values shown as text.
import type { ChangeImpact, ChangeRequest, ChangeReview, KeyChange, Rollout, RolloutTarget, Whoami } from "../../api/types";
import type { ReviewAction } from "../../api/client";
import { can, type Verdict } from "../../auth/permissions";

export const ACTIONS: { action: ReviewAction; label: string }[] = [
  { action: "approve", label: "Approve" },
  { action: "request-changes", label: "Request changes" },
  { action: "merge", label: "Merge" },
  { action: "reject", label: "Reject" },
];

function same(a: string, b: string): boolean {
  return a.toLocaleLowerCase() === b.toLocaleLowerCase();
}

/** Whether `who` may do `right` on every object (the first refusal's reason otherwise). */
function onEvery(who: Whoami, right: "approve" | "edit" | "merge", objects: string[]): Verdict {
  const asked = objects.length ? objects : ["*@*"];
  for (const object of asked) {
    const verdict = can(who, right, object);
    if (!verdict.allowed) return verdict;
  }
  return { allowed: true, reason: `${who.subject} may ${right} ${asked.join(", ")}` };
}

/** May `who` take `action` on the change request? With the reason when not: the state, the
 * author rule (nobody approves their own change), the access rules, the policy's verdict. */
export function actionVerdict(
  who: Whoami,
  change: ChangeRequest,
  impact: Pick<ChangeImpact, "edits"> | null,
  action: ReviewAction,
): Verdict {
  if (change.state !== "open") return { allowed: false, reason: `change request #${change.id} is ${change.state}` };
  const objects = impact?.edits ?? [];
  const author = same(who.subject, change.author);
  switch (action) {
    case "approve":
      if (author) return { allowed: false, reason: `you opened change request #${change.id}: nobody approves their own change` };
      return onEvery(who, "approve", objects);
    case "request-changes":
      return onEvery(who, "approve", objects);
    case "reject":
      return onEvery(who, author ? "edit" : "approve", objects);
    case "merge": {
      const rights = onEvery(who, "merge", objects);
      if (!rights.allowed) return rights;
      const verdict = change.verdict;
      if (verdict && verdict.state !== "success") return { allowed: false, reason: `not yet: ${verdict.description}` };
      return rights;
    }
  }
}

/** Each reviewer's latest review, newest first (a later review replaces an earlier one). */
export function latestReviews(reviews: ChangeReview[]): ChangeReview[] {
  const latest = new Map<string, ChangeReview>();
  for (const review of reviews) {
    if (review.state === "COMMENTED") continue;
    latest.set(review.user.toLocaleLowerCase(), review);
  }
  return [...latest.values()].sort((a, b) => b.time.localeCompare(a.time));
}

export function reviewText(review: ChangeReview, head: string): string {
  const what = review.state === "APPROVED" ? "approved" : review.state === "CHANGES_REQUESTED" ? "requested changes" : review.state.toLowerCase();
  const stale = review.commit !== head ? " (an earlier head: it no longer counts)" : "";
  return `${review.user} ${what}${stale}`;
}

/** A value of a configuration as one line of text. */
export function valueText(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") return JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** A key's change in words: "6 → 12", "added: 12", "removed (was 6)", "secret changed". */
export function changeText(change: KeyChange): { old: string; new: string; label: string } {
  if (change.secret) return { old: "(secret)", new: "(secret)", label: `${change.path}: a secret value changed (not shown)` };
  const old = change.kind === "added" ? "—" : valueText(change.old);
  const now = change.kind === "removed" ? "—" : valueText(change.new);
  const label =
    change.kind === "added"
      ? `${change.path} added: ${now}`
      : change.kind === "removed"
        ? `${change.path} removed (was ${old})`
        : `${change.path} changed from ${old} to ${now}`;
  return { old, new: now, label };
}

export type RolloutKind = "converged" | "pending" | "rolled-back" | "stuck";

export function rolloutKind(target: RolloutTarget): RolloutKind {
  if (target.status === "reached") return "converged";
  if (target.status === "pending") return "pending";
  if (target.status.includes("rolled-back")) return "rolled-back";
  return "stuck";
}

export interface RolloutSummary {
  targets: (RolloutTarget & { kind: RolloutKind })[];
  converged: number;
  pending: number;
  stuck: number;
  rolledBack: number;
  done: boolean; // every target converged (nothing left to watch)
}

/** The rollout of the targets that run one of `pairs` (SERVICE@ENV; all targets when empty). */
export function summarizeRollout(rollout: Rollout, pairs: string[]): RolloutSummary {
  const wanted = new Set(pairs);
  const targets = rollout.targets
    .filter((t) => wanted.size === 0 || wanted.has(`${t.service}@${t.env}`))
    .map((t) => ({ ...t, kind: rolloutKind(t) }));
  const count = (kind: RolloutKind) => targets.filter((t) => t.kind === kind).length;
  const converged = count("converged");
  return {
    targets,
    converged,
    pending: count("pending"),
    stuck: count("stuck"),
    rolledBack: count("rolled-back"),
    done: targets.length > 0 && converged === targets.length,
  };
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function short(commit: string | null | undefined): string {
  return commit ? commit.slice(0, 7) : "—";
}
