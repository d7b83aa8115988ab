import type { Overview, Whoami } from "../src/api/types";

export function overviewDoc(services = 3): Overview {
  const names = Array.from({ length: services }, (_, i) => `svc-${String(i).padStart(5, "0")}`);
  return {
    commit: "a".repeat(40),
    environments: ["staging", "prod"],
    ok: false,
    errors: 2,
    warnings: 0,
    problems: [],
    services: names.map((name, i) => ({
      name,
      owners: [i % 2 ? "@acme/odd" : "@acme/even"],
      errors: i === 1 ? [2, 0] : i === 3 ? [null, 0] : [0, 0],
      warnings: [0, 0],
    })),
    changes: [{ id: 7, title: "raise replicas", author: "alice", pairs: ["svc-00000@prod"] }],
    agents: [{ service: "svc-00000", env: "prod", commit: "b".repeat(40), targets: 2, stuck: 1, stale: 0 }],
  };
}

export function whoamiDoc(overrides: Partial<Whoami> = {}): Whoami {
  return {
    subject: "alice",
    anonymous: false,
    via: "token",
    insecure_local: false,
    role: "viewer",
    scopes: ["*"],
    expires: null,
    permissions: [
      { action: "read", object: "*@*", allowed: true, reason: "rbac.yaml:3 grants read" },
      { action: "edit", object: "*@*", allowed: false, reason: "alice may not edit *@*" },
    ],
    ...overrides,
  };
}

export function json(body: unknown, status = 200, type = "application/json"): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });
}

export function problem(status: number, kind: string, detail: string, hint?: string): Response {
  const doc = { type: `urn:cfgctl:problem:${kind}`, title: kind, status, detail, hint, exit_code: 2 };
  return json(doc, status, "application/problem+json");
}

/** A fetch that answers by path (the request's URL below /api/v1), recording each request. */
export function fakeFetch(routes: Record<string, (init: RequestInit | undefined) => Response>) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push({ url, init });
    const path = url.replace(/^\/api\/v1/, "").split("?")[0] ?? "";
    const route = routes[path];
    if (!route) return problem(404, "not-found", `no route ${path}`);
    return route(init);
  }) as typeof fetch;
  return { fetcher, calls };
}
