// The Service page in jsdom against a fake server: the form from the schema (oneOf, arrays,
// enums), a save's merge patch with If-Match, the server's 422 on the field it names, a 412
// that says reload, and the change request shown with its impact.
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeAll, describe, expect, it } from "vitest";
import { App } from "../../src/App";
import { fakeFetch, json, whoamiDoc } from "../fixtures";
import agreement from "./agreement.json";

const CONFIG = {
  service: "payments",
  env: "prod",
  schema: "svc@1",
  config: { name: "pay", replicas: 2, mode: "safe", tags: ["a"], db: { host: "db", port: 5432, password: "***" }, backend: { kind: "file", path: "/x" } },
  provenance: [
    { key: "name", path: ["name"], env: "base", layer: "service", file: "config/base/payments.yaml", line: 1, column: 1, commit: null, author: null, date: null },
    { key: "replicas", path: ["replicas"], env: "prod", layer: "service", file: "config/prod/payments.yaml", line: 1, column: 11, commit: null, author: null, date: null },
  ],
};

const CHANGE = {
  id: 4,
  title: "payments@prod: replicas",
  author: "alice",
  state: "open",
  plan: { impact: [{ service: "payments", env: "prod", status: "changed", keys: ["replicas"] }, { service: "payments", env: "prod-eu", status: "changed", keys: ["replicas"] }], risk: ["prod"], files: [] },
  verdict: { state: "pending", description: "needs four-eyes: 1 more approval" },
};

function problem(status: number, kind: string, extra: Record<string, unknown> = {}) {
  const doc = { type: `urn:cfgctl:problem:${kind}`, title: kind, status, detail: `the server says ${kind}`, exit_code: 1, ...extra };
  return new Response(JSON.stringify(doc), { status, headers: { "Content-Type": "application/problem+json" } });
}

function server(patchAnswers: Response[]) {
  const who = whoamiDoc({
    role: "editor",
    permissions: [
      { action: "read", object: "payments@prod", allowed: true, reason: "granted" },
      { action: "edit", object: "payments@prod", allowed: true, reason: "granted" },
    ],
  });
  return fakeFetch({
    "/whoami": () => json(who),
    "/config/payments/prod": (init) => {
      if (init?.method === "PATCH") return patchAnswers.shift()!;
      return new Response(JSON.stringify(CONFIG), { headers: { "Content-Type": "application/json", ETag: '"etag-1"' } });
    },
    "/schemas": () => json({ items: [{ name: "svc", versions: [1], latest: 1, files: ["schemas/svc.schema.json"] }], next_cursor: null }),
    "/schemas/svc": () => json({ name: "svc", version: 1, file: "schemas/svc.schema.json", schema: agreement.schema }),
  });
}

async function openPage(answers: Response[]) {
  sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
  window.location.hash = "#/service/payments/prod";
  const fake = server(answers);
  render(<App fetcher={fake.fetcher} />);
  expect(await screen.findByRole("heading", { name: "payments in prod" }, { timeout: 10_000 })).toBeInTheDocument();
  await screen.findByRole("button", { name: "Propose the change" }, { timeout: 10_000 });
  return fake;
}

describe("the Service page", () => {
  // the page's chunk (rjsf) loads on first use: once, before the tests time their answers
  beforeAll(() => import("../../src/pages/registry").then(({ pageOf }) => pageOf("service")!.load()), 30_000);

  it("shows the form, sends a merge patch with If-Match, and the change request with its impact", async () => {
    const user = userEvent.setup();
    const { calls } = await openPage([json(CHANGE, 202)]);
    expect(screen.getByText("The service's name")).toBeInTheDocument(); // the description as help
    expect(document.querySelector("#root_db_password")).toHaveAttribute("type", "password");
    expect(screen.getAllByText("set here")).toHaveLength(1);
    expect(screen.getByRole("button", { name: "Reset to inherited: replicas" })).toBeEnabled();
    const replicas = document.querySelector<HTMLInputElement>("#root_replicas")!;
    await user.clear(replicas);
    await user.type(replicas, "7");
    await user.type(screen.getByLabelText("Title of the change request (optional)"), "More replicas");
    await user.click(screen.getByRole("button", { name: "Propose the change" }));
    const opened = await screen.findByRole("status", { name: "Change request opened" });
    expect(within(opened).getByRole("link")).toHaveAttribute("href", "#/change/4");
    expect(opened).toHaveTextContent("payments@prod-eu changed: replicas");
    expect(opened).toHaveTextContent("needs four-eyes");
    const patch = calls.find((c) => c.init?.method === "PATCH")!;
    expect(JSON.parse(String(patch.init!.body))).toEqual({ replicas: 7 }); // never the masked password
    expect(patch.init!.headers).toMatchObject({
      "If-Match": '"etag-1"',
      "Content-Type": "application/merge-patch+json",
      "X-Cfgctl-Title": "More replicas",
    });
  });

  it("puts the server's errors on their fields, and says reload on a stale read", async () => {
    const user = userEvent.setup();
    const refused = problem(422, "check-failed", {
      errors: [{ severity: "error", code: "schema", message: "name: taken in prod-eu (schema svc@1)", path: "name", pointer: "/name", hint: null, pairs: [{ service: "payments", env: "prod" }] }],
    });
    await openPage([refused, problem(412, "precondition-failed")]);
    const name = document.querySelector<HTMLInputElement>("#root_name")!;
    await user.type(name, "x");
    await user.click(screen.getByRole("button", { name: "Propose the change" }));
    await waitFor(() => expect(document.querySelector("#root_name__error")).toHaveTextContent("taken in prod-eu (schema svc@1)"));
    await user.type(name, "y");
    await user.click(screen.getByRole("button", { name: "Propose the change" }));
    expect(await screen.findByText("The configuration changed since you read it")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Reload" })).toBeInTheDocument();
  });

  it("refuses in the browser what the schema refuses, on the field, and sends nothing", async () => {
    const user = userEvent.setup();
    const { calls } = await openPage([]);
    const replicas = document.querySelector<HTMLInputElement>("#root_replicas")!;
    await user.clear(replicas);
    await user.type(replicas, "0");
    await waitFor(() => expect(document.querySelector("#root_replicas__error")).toHaveTextContent("0 is less than 1"));
    await user.click(screen.getByRole("button", { name: "Propose the change" }));
    expect(calls.some((c) => c.init?.method === "PATCH")).toBe(false);
  });
});
