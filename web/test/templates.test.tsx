import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { App } from "../src/App";
import { buildRequest, checkServiceName, fieldsOf, helpOf, pairsOf, parseField, type TemplateRow } from "../src/pages/templates/model";
import { fakeFetch, json, problem, whoamiDoc } from "./fixtures";

const WEB: TemplateRow = {
  name: "web-service",
  version: 1,
  schema: "web-service",
  description: "A web service.",
  parameters: [
    { name: "port", type: "integer", required: false, default: 8080, constraints: { minimum: 1, maximum: 65535 }, description: "The HTTP port." },
    { name: "owners", type: "string", required: true, constraints: { pattern: "^@" }, description: "The owning team." },
    { name: "tier", type: "string", required: false, default: "gold", constraints: { enum: ["gold", "silver"] }, description: "" },
    { name: "public", type: "boolean", required: false, default: false, constraints: {}, description: "" },
    { name: "regions", type: "array", required: false, constraints: {}, description: "" },
  ],
  files: ["config/base/{{ name }}.yaml"],
  services: [{ service: "payments", version: 1, behind: false }],
};
const ENVS = [
  { name: "base", inherits: null, protected: false, abstract: true },
  { name: "staging", inherits: "base", protected: false, abstract: false },
  { name: "prod", inherits: "base", protected: true, abstract: false },
];

describe("the templates' model", () => {
  const fields = fieldsOf(WEB);
  const field = (name: string) => fields.find((f) => f.name === name)!;

  it("makes a field of each parameter's type, with its bounds in words", () => {
    expect(fields.map((f) => [f.name, f.kind, f.initial])).toEqual([
      ["port", "integer", "8080"],
      ["owners", "text", ""],
      ["tier", "choice", "gold"],
      ["public", "boolean", "false"],
      ["regions", "json", ""],
    ]);
    expect(helpOf(WEB.parameters![0]!)).toBe("The HTTP port. Type: integer, at least 1, at most 65535. Default: 8080.");
  });

  it("checks values as the declarations say", () => {
    expect(parseField(field("port"), "0")).toEqual({ ok: false, error: "port must be at least 1" });
    expect(parseField(field("port"), "80.5")).toEqual({ ok: false, error: "port must be a whole number" });
    expect(parseField(field("port"), "eighty")).toEqual({ ok: false, error: "port must be a number" });
    expect(parseField(field("port"), "9000")).toEqual({ ok: true, value: 9000, given: true });
    expect(parseField(field("port"), "")).toEqual({ ok: true, value: undefined, given: false });
    expect(parseField(field("owners"), "")).toEqual({ ok: false, error: "owners is required" });
    expect(parseField(field("owners"), "acme")).toEqual({ ok: false, error: "owners must match ^@" });
    expect(parseField(field("public"), "true")).toEqual({ ok: true, value: true, given: true });
    expect(parseField(field("regions"), '["eu"]')).toEqual({ ok: true, value: ["eu"], given: true });
    expect(parseField(field("regions"), "{}")).toEqual({ ok: false, error: "regions must be a list" });
    expect(parseField(field("tier"), "bronze").ok).toBe(false);
  });

  it("builds the request, or says what is wrong field by field", () => {
    expect(checkServiceName("Bad Name", [])).toMatch(/lower-case/);
    expect(checkServiceName("payments", ["payments"])).toBe("service payments already exists");
    const bad = buildRequest(WEB, fields, "payments", { owners: "acme" }, ["payments"]);
    expect(bad.errors).toEqual({ service: "service payments already exists", owners: "owners must match ^@" });
    const good = buildRequest(WEB, fields, "billing", { owners: "@acme/billing", port: "9000" }, ["payments"]);
    expect(good.request).toEqual({
      template: "web-service",
      service: "billing",
      params: { port: 9000, owners: "@acme/billing", tier: "gold", public: false },
    });
    expect(pairsOf("billing", ENVS)).toEqual(["billing@staging", "billing@prod"]);
  });
});

function server(editAllowed: boolean) {
  const posted: unknown[] = [];
  const edits = ["billing@staging", "billing@prod"].map((object) => ({
    action: "edit" as const,
    object,
    allowed: editAllowed,
    reason: editAllowed ? "rbac.yaml:5 grants edit" : `alice may not edit ${object}`,
  }));
  const fake = fakeFetch({
    "/whoami": () => json(whoamiDoc({ permissions: [...whoamiDoc().permissions, ...edits] })),
    "/templates": () => json({ items: [WEB], next_cursor: null }),
    "/environments": () => json({ items: ENVS, next_cursor: null }),
    "/services": (init) => {
      if (init?.method !== "POST") return json({ items: [{ name: "payments" }], next_cursor: null });
      const body = JSON.parse(String(init.body)) as { params: { port?: number } };
      posted.push(body);
      if (body.params.port === 22) {
        return json({ type: "urn:cfgctl:problem:invalid-parameter", title: "bad", status: 422, detail: "parameter port: 22 is reserved", parameter: "port", exit_code: 2 }, 422, "application/problem+json");
      }
      return json({ id: 4, title: "new service billing from template web-service", plan: { impact: [{ service: "billing", env: "prod", status: "added", keys: ["server.port"] }] }, verdict: { state: "pending", description: "needs 1 more approval" } }, 202);
    },
  });
  return { ...fake, posted };
}

describe("the templates page", () => {
  it("lists the templates and their parameters", async () => {
    sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
    window.location.hash = "#/templates";
    render(<App fetcher={server(true).fetcher} />);
    expect(await screen.findByRole("heading", { name: "web-service" })).toBeInTheDocument();
    expect(screen.getByRole("table", { name: "Parameters of web-service" })).toHaveTextContent("The HTTP port.");
    expect(screen.getByRole("link", { name: "Create a service from web-service" })).toHaveAttribute("href", "#/templates/web-service");
  });

  it("shows the browser's and the server's errors on their fields, then opens the change request", async () => {
    sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
    window.location.hash = "#/templates/web-service";
    const { fetcher, posted } = server(true);
    const user = userEvent.setup();
    render(<App fetcher={fetcher} />);
    const name = await screen.findByLabelText(/Service name/);
    await user.type(name, "billing");
    const submit = screen.getByRole("button", { name: "Open a change request" });
    await waitFor(() => expect(submit).toBeEnabled());
    await user.click(submit);
    expect(screen.getByLabelText(/owners/)).toHaveAccessibleDescription(/owners is required/);
    expect(posted).toEqual([]);
    await user.type(screen.getByLabelText(/owners/), "@acme/billing");
    await user.clear(screen.getByLabelText(/port/));
    await user.type(screen.getByLabelText(/port/), "22");
    await user.click(submit);
    await waitFor(() => expect(screen.getByLabelText(/port/)).toHaveAccessibleDescription(/22 is reserved/));
    expect(screen.getByLabelText(/port/)).toHaveAttribute("aria-invalid", "true");
    await user.clear(screen.getByLabelText(/port/));
    await user.type(screen.getByLabelText(/port/), "9000");
    await user.click(submit);
    expect(await screen.findByRole("heading", { name: "Change request #4 opened" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Open change request #4" })).toHaveAttribute("href", "#/changes/4");
    expect(posted).toHaveLength(2);
  });

  it("disables the action with the reason when the token may not edit the new service", async () => {
    sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
    window.location.hash = "#/templates/web-service";
    const user = userEvent.setup();
    render(<App fetcher={server(false).fetcher} />);
    await user.type(await screen.findByLabelText(/Service name/), "billing");
    const submit = screen.getByRole("button", { name: "Open a change request" });
    await waitFor(() => expect(submit).toHaveAccessibleDescription("Not allowed: alice may not edit billing@staging"));
    expect(submit).toBeDisabled();
  });

  it("says when the template does not exist", async () => {
    sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
    window.location.hash = "#/templates/nope";
    render(<App fetcher={server(true).fetcher} />);
    expect(await screen.findByRole("alert")).toHaveTextContent("No template nope");
  });

  it("shows a refused catalogue readably", async () => {
    sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
    window.location.hash = "#/templates";
    const { fetcher } = fakeFetch({
      "/whoami": () => json(whoamiDoc()),
      "/templates": () => problem(403, "forbidden", "'alice' may not read templates", "ask for a grant"),
      "/environments": () => json({ items: ENVS, next_cursor: null }),
      "/services": () => json({ items: [], next_cursor: null }),
    });
    render(<App fetcher={fetcher} />);
    expect(await screen.findByRole("alert")).toHaveTextContent("'alice' may not read templates. Ask for a grant.");
  });
});
