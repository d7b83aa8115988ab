import { describe, expect, it } from "vitest";
import { applyFilters, buildRows, describeCell, NO_FILTERS, ownersOf } from "../src/pages/overview/model";
import { can } from "../src/auth/permissions";
import { parseHash, hrefOf } from "../src/router";
import { tokenProblem } from "../src/auth/token";
import { overviewDoc, whoamiDoc } from "./fixtures";

describe("the overview's model", () => {
  const doc = overviewDoc(4);
  const rows = buildRows(doc);

  it("puts errors, change requests and agents in their cells", () => {
    const first = rows[0]!;
    expect(first.cells.map((c) => c.env)).toEqual(["staging", "prod"]);
    expect(first.cells[1]!.changes.map((c) => c.id)).toEqual([7]);
    expect(first.cells[1]!.agents[0]!.stuck).toBe(1);
    expect(rows[1]!.cells[0]!.errors).toBe(2);
    expect(describeCell("svc-00001", rows[1]!.cells[0]!, doc.commit)).toBe("svc-00001 in staging; invalid, 2 errors");
    expect(describeCell("svc-00000", first.cells[1]!, doc.commit)).toBe(
      "svc-00000 in prod; valid; 1 pending change request (#7); 2 targets run bbbbbbb, 1 stuck",
    );
  });

  it("filters by owner, text, environment and problems", () => {
    const envs = doc.environments;
    expect(applyFilters(rows, envs, NO_FILTERS).rows).toHaveLength(4);
    expect(applyFilters(rows, envs, { ...NO_FILTERS, owner: "@acme/odd" }).rows.map((r) => r.service)).toEqual([
      "svc-00001",
      "svc-00003",
    ]);
    expect(applyFilters(rows, envs, { ...NO_FILTERS, text: "00002" }).rows.map((r) => r.service)).toEqual(["svc-00002"]);
    expect(applyFilters(rows, envs, { ...NO_FILTERS, text: "SVC even" }).rows).toHaveLength(2);
    const prod = applyFilters(rows, envs, { ...NO_FILTERS, env: "prod", problemsOnly: true });
    expect(prod.columns).toEqual([1]);
    expect(prod.rows.map((r) => r.service)).toEqual(["svc-00000"]); // stuck in prod; svc-00001 errs in staging
    expect(describeCell("svc-00003", rows[3]!.cells[0]!, doc.commit)).toBe(
      "svc-00003 in staging: not shown, your token may not read it",
    );
    expect(ownersOf(rows)).toEqual(["@acme/even", "@acme/odd"]);
  });
});

describe("permissions, routes, tokens", () => {
  it("answers can() with the server's reason", () => {
    const who = whoamiDoc();
    expect(can(who, "read")).toEqual({ allowed: true, reason: "rbac.yaml:3 grants read" });
    expect(can(who, "edit")).toEqual({ allowed: false, reason: "alice may not edit *@*" });
    expect(can(who, "merge", "payments@prod").allowed).toBe(false);
  });

  it("parses and makes fragment routes", () => {
    const route = parseHash("#/service/payments/prod?key=db.pool");
    expect(route.page).toBe("service");
    expect(route.rest).toEqual(["payments", "prod"]);
    expect(route.query.get("key")).toBe("db.pool");
    expect(parseHash("").page).toBe("");
    expect(hrefOf("overview", [], { q: "pay", env: "" })).toBe("#/overview?q=pay");
  });

  it("checks the shape of a token before sending it", () => {
    expect(tokenProblem("")).toMatch(/Paste/);
    expect(tokenProblem("not a token")).toMatch(/not a cfgctl API token/);
    expect(tokenProblem("cfgctl_0123abcd_s3cr3t-x_y")).toBeNull();
  });
});
