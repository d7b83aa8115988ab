import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { App } from "../src/App";
import type { CompareDocument, CompareRow } from "../src/api/types";
import {
  apiQuery,
  formatValue,
  hrefOfQuery,
  incomplete,
  layerOf,
  mismatches,
  modeOf,
  objectsOf,
  promotable,
  promotionOf,
  queryOf,
  selectable,
  selectionId,
  shownRows,
  sideLabels,
  statusText,
  whereOf,
} from "../src/pages/compare/model";
import { fakeFetch, json, problem, whoamiDoc } from "./fixtures";

const COMMIT = "c".repeat(40);
const cell = (value: unknown, env: string, file: string, line: number) => ({
  present: true,
  value,
  env,
  layer: "service" as const,
  file,
  line,
  column: 3,
});

function row(key: string, status: CompareRow["status"], cells: CompareRow["cells"], secret = false): CompareRow {
  return { key, path: key.split("."), status, secret, cells };
}

function compareDoc(): CompareDocument {
  return {
    sides: [
      { env: "staging", rev: null, commit: COMMIT },
      { env: "prod", rev: null, commit: COMMIT },
    ],
    items: [
      {
        name: "payments",
        errors: [null, null],
        differences: 3,
        keys: 4,
        rows: [
          row("db.pool_size", "differs", [
            cell(10, "base", "config/base/payments.yaml", 5),
            cell(40, "prod", "config/prod/payments.yaml", 5),
          ]),
          row("public_url", "differs", [{ present: false }, cell("https://pay", "prod", "config/prod/payments.yaml", 2)]),
          row(
            "db.password",
            "secret",
            [cell("***", "staging", "config/staging/payments.secrets.yaml", 1), cell("***", "prod", "config/prod/payments.secrets.yaml", 1)],
            true,
          ),
          row("server.port", "same", [cell(8080, "base", "config/base/_defaults.yaml", 4), cell(8080, "base", "config/base/_defaults.yaml", 4)]),
        ],
      },
    ],
    next_cursor: null,
  };
}

describe("the compare model", () => {
  const doc = compareDoc();
  const item = doc.items[0]!;

  it("reads and writes the route", () => {
    const query = queryOf(["payments"], new URLSearchParams("env=staging&env=prod&all=1"));
    expect(query).toEqual({ service: "payments", envs: ["staging", "prod"], revs: [], everything: true });
    expect(hrefOfQuery(query)).toBe("#/compare/payments?env=staging&env=prod&all=1");
    const commits = queryOf([], new URLSearchParams("env=prod&rev=v1&rev=main"));
    expect(modeOf(commits)).toBe("commits");
    expect(incomplete(commits)).toBeNull();
    expect(incomplete({ ...commits, revs: ["main", "main"] })).toBe("Choose two different commits.");
    expect(incomplete({ ...query, envs: ["prod"] })).toBe("Choose two or more environments to compare.");
    // one service: every key asked once (the toggle filters); every service: as the toggle says
    expect(apiQuery({ ...query, everything: false }).all).toBe("true");
    expect(apiQuery({ ...query, service: "", everything: false }).all).toBeUndefined();
    expect(apiQuery(commits)).toMatchObject({ env: ["prod"], rev: ["v1", "main"] });
  });

  it("shows the differences only unless everything, and says where each value comes from", () => {
    expect(shownRows(item, false).map((r) => r.key)).toEqual(["db.pool_size", "public_url", "db.password"]);
    expect(shownRows(item, true)).toHaveLength(4);
    const [pool, url, password, port] = item.rows as [CompareRow, CompareRow, CompareRow, CompareRow];
    expect(formatValue(pool.cells[0]!)).toBe("10");
    expect(formatValue(url.cells[0]!)).toBe("not set");
    expect(formatValue({ present: true, value: ["a", 1] })).toBe('["a",1]');
    expect(whereOf(pool.cells[1]!)).toBe("config/prod/payments.yaml:5");
    expect(layerOf(pool.cells[0]!, "staging")).toBe("inherited from base (service)");
    expect(layerOf(pool.cells[1]!, "prod")).toBe("set in prod (service)");
    expect(mismatches(pool, 0)).toBe(false);
    expect(mismatches(pool, 1)).toBe(true);
    expect(mismatches(port, 1)).toBe(false);
    expect(statusText(url)).toBe("differs (not set on 1 side)");
    expect(statusText(password)).toBe("secret, not compared");
    expect(selectable(pool) && !selectable(password) && !selectable(port)).toBe(true);
    expect(sideLabels(doc.sides)).toEqual(["staging", "prod"]);
    expect(sideLabels([{ env: "prod", rev: "v1", commit: COMMIT }, { env: "prod", rev: null, commit: COMMIT }])).toEqual([
      "prod at v1",
      "prod at head",
    ]);
  });

  it("builds the promotion and the access it needs", () => {
    const selected = new Set([selectionId("payments", "public_url"), selectionId("payments", "db.pool_size")]);
    expect(promotable(doc)).toEqual(["staging", "prod"]);
    expect(promotable({ ...doc, sides: [doc.sides[0]!, doc.sides[0]!] })).toEqual([]);
    expect(promotionOf(selected, "staging", "prod", COMMIT)).toEqual({
      from: "staging",
      to: "prod",
      commit: COMMIT,
      keys: [
        { service: "payments", key: "db.pool_size" },
        { service: "payments", key: "public_url" },
      ],
    });
    expect(objectsOf(selected, "staging", "prod")).toEqual(["payments@staging", "payments@prod"]);
  });
});

function server(options: { edit: boolean }) {
  const who = whoamiDoc({
    role: options.edit ? "editor" : "viewer",
    permissions: [
      { action: "read", object: "payments@staging", allowed: true, reason: "rbac.yaml:3 grants read" },
      { action: "read", object: "payments@prod", allowed: true, reason: "rbac.yaml:3 grants read" },
      options.edit
        ? { action: "edit", object: "payments@prod", allowed: true, reason: "rbac.yaml:3 grants edit" }
        : { action: "edit", object: "payments@prod", allowed: false, reason: "alice may not edit payments@prod" },
    ],
  });
  return fakeFetch({
    "/whoami": () => json(who),
    "/environments": () =>
      json({
        items: ["base", "prod", "staging"].map((name) => ({ name, inherits: null, protected: false, abstract: name === "base" })),
        next_cursor: null,
      }),
    "/services": () => json({ items: [{ name: "payments" }, { name: "search" }], next_cursor: null }),
    "/compare": () => json(compareDoc()),
    "/promotions": (init) => {
      const body = JSON.parse(String(init?.body)) as { keys: unknown[] };
      if (body.keys.length !== 1) return problem(400, "bad-request", "one key expected");
      return json(
        { id: 9, title: "prod like staging: payments db.pool_size", state: "open", promotion: { from: "staging", to: "prod", moves: [], skipped: [] } },
        202,
      );
    },
  });
}

describe("the compare page", () => {
  it("shows the differences, toggles every key, and opens a promotion from keys chosen with the keyboard", async () => {
    sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
    window.location.hash = "#/compare/payments?env=staging&env=prod";
    const { fetcher, calls } = server({ edit: true });
    const user = userEvent.setup();
    render(<App fetcher={fetcher} />);
    const table = await screen.findByRole("region", { name: "payments: staging, prod" });
    expect(within(table).getAllByRole("rowheader").map((h) => h.textContent)).toEqual([
      "db.pool_sizediffers",
      "public_urldiffers (not set on 1 side)",
      "db.passwordsecret, not compared",
    ]);
    expect(within(table).getByText("config/prod/payments.yaml:5")).toBeInTheDocument();
    expect(table).not.toHaveTextContent("8080");
    const button = screen.getByRole("button", { name: "Open a promotion change request" });
    expect(button).toBeDisabled();
    expect(button).toHaveAccessibleDescription("Select the keys to promote (the checkboxes of the rows that differ).");

    await user.click(screen.getByLabelText("Show every key"));
    await waitFor(() => expect(window.location.hash).toBe("#/compare/payments?env=staging&env=prod&all=1"));
    expect(await within(table).findAllByText("8080")).toHaveLength(2);
    expect(calls.filter((c) => c.url.includes("/compare"))).toHaveLength(1); // filtered, not asked again
    expect(within(table).queryByLabelText("Select payments db.password")).toBeNull(); // a secret is never promoted

    const box = screen.getByLabelText("Select payments db.pool_size");
    box.focus();
    await user.keyboard(" ");
    expect(box).toBeChecked();
    await waitFor(() => expect(button).toBeEnabled());
    expect(screen.getByLabelText("Make")).toHaveValue("prod");
    await user.click(button);
    const link = await screen.findByRole("link", { name: "#9" });
    expect(link).toHaveAttribute("href", "#/change/9");
    const sent = calls.find((c) => c.url.endsWith("/promotions"))!;
    expect(JSON.parse(String(sent.init?.body))).toEqual({
      from: "staging",
      to: "prod",
      commit: COMMIT,
      keys: [{ service: "payments", key: "db.pool_size" }],
    });
    expect(box).not.toBeChecked();
  });

  it("disables the promotion with the server's reason", async () => {
    sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
    window.location.hash = "#/compare/payments?env=staging&env=prod";
    const { fetcher } = server({ edit: false });
    const user = userEvent.setup();
    render(<App fetcher={fetcher} />);
    await user.click(await screen.findByLabelText("Select payments db.pool_size"));
    const button = screen.getByRole("button", { name: "Open a promotion change request" });
    await waitFor(() => expect(button).toHaveAccessibleDescription("Not allowed: alice may not edit payments@prod."));
    expect(button).toBeDisabled();
  });

  it("shows the server's refusal of a promotion as a sentence", async () => {
    sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
    window.location.hash = "#/compare/payments?env=staging&env=prod";
    const { fetcher } = server({ edit: true });
    const user = userEvent.setup();
    render(<App fetcher={fetcher} />);
    await user.click(await screen.findByLabelText("Select every difference of payments"));
    expect(screen.getByLabelText("Select payments public_url")).toBeChecked();
    const button = screen.getByRole("button", { name: "Open a promotion change request" });
    await waitFor(() => expect(button).toBeEnabled());
    await user.click(button);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("One key expected");
    expect(alert.textContent).not.toContain("{");
  });

  it("switches to two commits of one environment and asks for them", async () => {
    sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
    window.location.hash = "#/compare/payments?env=staging&env=prod";
    const { fetcher, calls } = server({ edit: true });
    const user = userEvent.setup();
    render(<App fetcher={fetcher} />);
    await screen.findByRole("region", { name: "payments: staging, prod" });
    await user.click(screen.getByLabelText("two commits"));
    expect(window.location.hash).toBe("#/compare/payments?env=prod&rev=HEAD%7E1&rev=HEAD");
    await user.clear(screen.getByLabelText("From commit"));
    await user.type(screen.getByLabelText("From commit"), "v1.4");
    await user.click(screen.getByRole("button", { name: "Compare" }));
    expect(window.location.hash).toBe("#/compare/payments?env=prod&rev=v1.4&rev=HEAD");
    await waitFor(() => expect(calls.at(-1)!.url).toContain("/compare?env=prod&rev=v1.4&rev=HEAD&service=payments&all=true"));
  });
});
