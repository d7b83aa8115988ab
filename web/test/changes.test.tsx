import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { App } from "../src/App";
import type { ChangeImpact, ChangeRequest, PairCommits, Rollout, Whoami } from "../src/api/types";
import { actionVerdict, changeText, latestReviews, summarizeRollout } from "../src/pages/changes/model";
import { historyQuery, revertVerdict } from "../src/pages/history/model";
import { fakeFetch, json, problem, whoamiDoc } from "./fixtures";

const HEAD = "c".repeat(40);

function changeDoc(overrides: Partial<ChangeRequest> = {}): ChangeRequest {
  return {
    id: 5,
    title: "More replicas",
    author: "erin",
    base: "main",
    head: HEAD,
    opened: "2026-12-02T10:00:00Z",
    state: "open",
    reviews: [],
    merged: null,
    closed_by: null,
    plan: {
      base: "b".repeat(40),
      head: HEAD,
      impact: [{ service: "payments", env: "staging", status: "changed", keys: ["replicas"] }],
      files: ["config/staging/payments.yaml"],
      rules: [{ name: "owners-approve", applies: true, why: "changes replicas in payments@staging" }],
      risk: [],
      freezes: [],
      policy: "policy.yaml",
      permissions_added: [],
    },
    verdict: {
      state: "pending",
      description: "needs owners-approve: 1 more approval",
      emergency: false,
      requirements: [{ rule: "owners-approve (payments)", require: "1 approval from the owners", needed: 1, approvers: [], met: false }],
      changes_requested: [],
      stale_approvals: [],
      freezes: [],
    },
    ...overrides,
  };
}

const IMPACT: ChangeImpact = {
  id: 5,
  base: "b".repeat(40),
  head: HEAD,
  edits: ["payments@staging"],
  pairs: [{ service: "payments", env: "staging", status: "changed", changes: [{ path: "replicas", kind: "changed", old: 2, new: 4 }] }],
  hidden: 0,
  checks: { ok: true, errors: 0, warnings: 0, diagnostics: [] },
};

function who(subject: string, allowed: string[]): Whoami {
  const permissions = (["read", "edit", "approve", "merge"] as const).map((action) => ({
    action,
    object: "payments@staging",
    allowed: allowed.includes(action),
    reason: allowed.includes(action) ? "rbac.yaml grants it" : `the token's role does not include ${action}`,
  }));
  return whoamiDoc({ subject, permissions });
}

describe("the change request's model", () => {
  it("never lets the author approve, and says why", () => {
    const verdict = actionVerdict(who("erin", ["read", "edit", "approve", "merge"]), changeDoc(), IMPACT, "approve");
    expect(verdict).toEqual({ allowed: false, reason: "you opened change request #5: nobody approves their own change" });
    expect(actionVerdict(who("ERIN", ["approve"]), changeDoc(), IMPACT, "approve").allowed).toBe(false);
  });

  it("follows the access rules, the verdict and the state", () => {
    const approver = who("priya", ["read", "approve", "merge"]);
    expect(actionVerdict(approver, changeDoc(), IMPACT, "approve").allowed).toBe(true);
    expect(actionVerdict(approver, changeDoc(), IMPACT, "merge")).toEqual({
      allowed: false,
      reason: "not yet: needs owners-approve: 1 more approval",
    });
    const passed = changeDoc({ verdict: { ...changeDoc().verdict!, state: "success", description: "ok" } });
    expect(actionVerdict(approver, passed, IMPACT, "merge").allowed).toBe(true);
    const viewer = who("olivia", ["read"]);
    expect(actionVerdict(viewer, changeDoc(), IMPACT, "request-changes").reason).toBe("the token's role does not include approve");
    expect(actionVerdict(who("erin", ["read", "edit"]), changeDoc(), IMPACT, "reject").allowed).toBe(true); // withdraw
    expect(actionVerdict(approver, changeDoc({ state: "merged" }), IMPACT, "approve").reason).toBe("change request #5 is merged");
  });

  it("keeps each reviewer's latest review", () => {
    const reviews = latestReviews([
      { user: "bob", state: "CHANGES_REQUESTED", commit: HEAD, time: "2026-12-02T10:01:00Z" },
      { user: "Bob", state: "APPROVED", commit: HEAD, time: "2026-12-02T10:02:00Z" },
      { user: "carol", state: "COMMENTED", commit: HEAD, time: "2026-12-02T10:03:00Z" },
    ]);
    expect(reviews.map((r) => [r.user, r.state])).toEqual([["Bob", "APPROVED"]]);
  });

  it("says a key's change in words, secrets never", () => {
    expect(changeText({ path: "replicas", kind: "changed", old: 2, new: 4 }).label).toBe("replicas changed from 2 to 4");
    expect(changeText({ path: "db.host", kind: "added", old: null, new: "x" }).label).toBe('db.host added: "x"');
    expect(changeText({ path: "db.password", kind: "changed", old: null, new: null, secret: true }).old).toBe("(secret)");
  });

  it("summarises the rollout of the pairs it changed", () => {
    const target = (name: string, env: string, status: string) => ({
      agent: "web-1", target: name, service: "payments", env, wave: null, commit: HEAD, state: "applied",
      status, why: null, last_report: "2026-12-02T10:00:00Z", stale: false,
    });
    const rollout: Rollout = {
      commit: HEAD, total: 4, reached: 1, stuck: 2, pending: 1, stale: 0,
      targets: [target("a", "staging", "reached"), target("b", "staging", "rolled-back"), target("c", "staging", "failed"),
        target("d", "prod", "pending")],
    };
    const summary = summarizeRollout(rollout, ["payments@staging"]);
    expect([summary.converged, summary.rolledBack, summary.stuck, summary.pending, summary.done]).toEqual([1, 1, 1, 0, false]);
  });
});

describe("the history's model", () => {
  it("reads the fragment and asks edit on the pair for a revert", () => {
    const q = historyQuery(["payments", "prod"], new URLSearchParams("key=db.pool_size"));
    expect(q).toEqual({ service: "payments", env: "prod", key: "db.pool_size" });
    const commit = { commit: HEAD, parents: ["b".repeat(40)], author: "a", email: "", date: "", subject: "s", changes: [], change_request: null };
    expect(revertVerdict(who("x", ["read"]), { ...q, env: "staging", service: "payments" }, commit).allowed).toBe(false);
    expect(revertVerdict(who("x", ["read", "edit"]), { ...q, env: "staging" }, commit).allowed).toBe(true);
    expect(revertVerdict(who("x", ["edit"]), { ...q, env: "staging" }, { ...commit, parents: [] }).reason).toContain("first commit");
  });
});

function server(subject: string, rights: string[]) {
  let change = changeDoc();
  return fakeFetch({
    "/whoami": () => json(who(subject, rights)),
    "/changes/5": () => json(change),
    "/changes/5/impact": () => json(IMPACT),
    "/changes/5/approve": (init) => {
      if (init?.method !== "POST") return problem(405, "method-not-allowed", "POST only");
      change = { ...change, reviews: [{ user: subject, state: "APPROVED", commit: HEAD, time: "2026-12-02T11:00:00Z" }] };
      return json(change);
    },
    "/commits/payments/staging": () =>
      json({
        service: "payments", env: "staging", key: null, head: HEAD,
        commits: [{ commit: HEAD, parents: ["b".repeat(40)], author: "erin", email: "e@x", date: "2026-12-02T10:00:00+00:00",
          subject: "More replicas", changes: IMPACT.pairs[0]!.changes, change_request: { id: 5, title: "More replicas", author: "erin" } }],
      } satisfies PairCommits),
    "/reverts": () => problem(409, "conflict", "commit ccccccc no longer reverts cleanly on main: config/staging/payments.yaml changed since", "edit those files by hand in a new change request"),
    "/services": () => json({ items: [{ name: "payments" }], next_cursor: null }),
    "/environments": () => json({ items: [{ name: "staging", abstract: false }], next_cursor: null }),
  });
}

describe("the pages", () => {
  it("shows a change request and approves it as an approver", async () => {
    sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
    window.location.hash = "#/change/5";
    const { fetcher, calls } = server("priya", ["read", "approve", "merge"]);
    const user = userEvent.setup();
    render(<App fetcher={fetcher} />);
    expect(await screen.findByRole("heading", { name: "#5 More replicas open" })).toBeInTheDocument();
    const table = screen.getByRole("table", { name: "payments@staging (changed, 1 key)" });
    expect(within(table).getByRole("row", { name: "replicas changed from 2 to 4" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Merge" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Merge" })).toHaveAccessibleDescription("not yet: needs owners-approve: 1 more approval");
    await user.click(screen.getByRole("button", { name: "Approve" }));
    expect(await screen.findByText("Approved: change request #5 is open.")).toBeInTheDocument();
    expect(screen.getByText("priya approved")).toBeInTheDocument();
    expect(calls.some((c) => c.url.endsWith("/changes/5/approve") && c.init?.method === "POST")).toBe(true);
  });

  it("disables approve for the author, with the reason", async () => {
    sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
    window.location.hash = "#/change/5";
    const { fetcher } = server("erin", ["read", "edit", "approve", "merge"]);
    render(<App fetcher={fetcher} />);
    const approve = await screen.findByRole("button", { name: "Approve" });
    expect(approve).toBeDisabled();
    expect(approve).toHaveAccessibleDescription("you opened change request #5: nobody approves their own change");
  });

  it("shows the history and a revert the server refuses, readably", async () => {
    sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
    window.location.hash = "#/history/payments/staging";
    const { fetcher } = server("dana", ["read", "edit"]);
    const user = userEvent.setup();
    render(<App fetcher={fetcher} />);
    expect(await screen.findByRole("heading", { name: "More replicas" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "change request #5" })).toHaveAttribute("href", "#/change/5");
    await user.click(screen.getByRole("button", { name: "Revert ccccccc: More replicas" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("no longer reverts cleanly on main: config/staging/payments.yaml changed since");
    expect(alert).not.toHaveTextContent("{");
    await waitFor(() => expect(window.location.hash).toBe("#/history/payments/staging"));
  });
});
