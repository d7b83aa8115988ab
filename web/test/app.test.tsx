import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { App } from "../src/App";
import { fakeFetch, json, overviewDoc, problem, whoamiDoc } from "./fixtures";

function server(options: { token?: string; services?: number } = {}) {
  const expected = options.token ?? "cfgctl_abc123_secret";
  return fakeFetch({
    "/whoami": (init) => {
      const auth = (init?.headers as Record<string, string>).Authorization;
      if (auth === `Bearer ${expected}`) return json(whoamiDoc());
      if (!auth) return problem(401, "unauthenticated", "no API token", "send Authorization: Bearer TOKEN");
      return problem(401, "unauthenticated", "the token is revoked", "ask an administrator for a new token");
    },
    "/overview": () => json(overviewDoc(options.services ?? 3)),
  });
}

describe("the app", () => {
  it("asks for a token, refuses a bad one readably, and signs in with a good one", async () => {
    window.location.hash = "#/overview";
    const { fetcher, calls } = server();
    const user = userEvent.setup();
    render(<App fetcher={fetcher} />);
    const input = await screen.findByLabelText("API token");
    await user.type(input, "cfgctl_abc123_wrong");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The token is revoked. Ask an administrator for a new token.");
    expect(sessionStorage.getItem("cfgctl.token")).toBeNull();
    await user.clear(input);
    await user.type(input, "cfgctl_abc123_secret");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { name: "Overview" })).toBeInTheDocument();
    expect(sessionStorage.getItem("cfgctl.token")).toBe("cfgctl_abc123_secret");
    expect(window.location.href).not.toContain("secret");
    expect(calls.every((c) => !c.url.includes("secret"))).toBe(true);
    expect(screen.getByText("alice (viewer)")).toBeInTheDocument();
  });

  it("shows the overview grid, filters it, and moves between cells with the keyboard", async () => {
    sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
    window.location.hash = "#/overview";
    const { fetcher } = server({ services: 50 });
    const user = userEvent.setup();
    render(<App fetcher={fetcher} />);
    const grid = await screen.findByRole("grid", { name: "Services by environment" });
    expect(grid).toHaveAttribute("aria-rowcount", "51");
    const rendered = within(grid).getAllByRole("row").length;
    expect(rendered).toBeLessThan(51); // virtualised: not every row is in the DOM
    expect(within(grid).getByTitle("svc-00001 in staging; invalid, 2 errors")).toHaveAccessibleName(
      "svc-00001 in staging: 2 errors",
    );
    await user.type(screen.getByLabelText("Search services"), "svc-00042");
    await waitFor(() => expect(screen.getByRole("status")).toHaveTextContent("Showing 1 of 50 services"));
    expect(window.location.hash).toBe("#/overview?q=svc-00042");
    await user.clear(screen.getByLabelText("Search services"));
    await user.selectOptions(screen.getByLabelText("Environment"), "prod");
    await waitFor(() => expect(within(grid).queryByText("staging")).toBeNull());
    const first = within(grid).getAllByRole("rowheader")[0]!;
    first.focus();
    await user.keyboard("{ArrowRight}");
    expect(document.activeElement).toHaveAttribute("title", expect.stringMatching(/^svc-00000 in prod; valid; 1 pending/));
    expect(document.activeElement).toHaveAccessibleName("svc-00000 in prod: valid 1 change runs bbbbbbb, 1 stuck");
    await user.keyboard("{ArrowDown}");
    expect(document.activeElement).toHaveAttribute("title", expect.stringMatching(/^svc-00001 in prod/));
    // far below the rows in view: the focus follows, never falls out of the grid
    await user.keyboard("{PageDown}{PageDown}{PageDown}{PageDown}");
    expect(document.activeElement).toHaveAttribute("title", expect.stringMatching(/^svc-00041 in prod/));
    await user.keyboard("{Control>}{End}{/Control}");
    expect(document.activeElement).toHaveAttribute("title", expect.stringMatching(/^svc-00049 in prod/));
    await user.keyboard("{Control>}{Home}{/Control}");
    expect(document.activeElement).toHaveTextContent("svc-00000");
  });

  it("goes back to the sign-in page, saying why, when the token is refused later", async () => {
    sessionStorage.setItem("cfgctl.token", "cfgctl_abc123_secret");
    window.location.hash = "#/overview";
    const { fetcher } = fakeFetch({
      "/whoami": () => json(whoamiDoc()),
      "/overview": () => problem(401, "unauthenticated", "the token expired", "ask an administrator for a new token"),
    });
    render(<App fetcher={fetcher} />);
    expect(await screen.findByLabelText("API token")).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("The token expired. Ask an administrator for a new token.");
    expect(sessionStorage.getItem("cfgctl.token")).toBeNull();
  });

  it("needs no sign-in on an --insecure-local server, and says why an overview is refused", async () => {
    window.location.hash = "";
    const { fetcher } = fakeFetch({
      "/whoami": () => json(whoamiDoc({ subject: "anonymous", anonymous: true, via: "none", insecure_local: true, role: null })),
      "/overview": () => problem(503, "environment", "the access rules cannot be read", "fix rbac.yaml on the served branch"),
    });
    render(<App fetcher={fetcher} />);
    expect(await screen.findByText("local (no sign-in)")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Sign out" })).toBeNull();
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "The access rules cannot be read. Fix rbac.yaml on the served branch.",
    );
  });
});
