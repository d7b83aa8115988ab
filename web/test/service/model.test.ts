// The Service page's model: where each value comes from, what a save sends, the server's
// errors on their fields, and the schema bundled from the repository's files.
import { describe, expect, it } from "vitest";
import type { Diagnostic, ProvenanceEntry } from "../../src/api/types";
import {
  MASK,
  describeOrigin,
  maskedSecret,
  originOf,
  resetPatch,
  resettable,
  saveOf,
  secretPointersOf,
  serverErrors,
  uiSchemaOf,
} from "../../src/pages/service/model";
import { bundle, referencedFiles, resolveFile } from "../../src/pages/service/schemaBundle";
import { CfworkerValidator } from "../../src/pages/service/validator";

function entry(key: string, env: string, layer: ProvenanceEntry["layer"] = "service"): ProvenanceEntry {
  const file = layer === "defaults" ? `config/${env}/_defaults.yaml` : `config/${env}/payments${layer === "secrets" ? ".secrets" : ""}.yaml`;
  return { key, path: key.split("."), env, layer, file, line: 1, column: 1, commit: null, author: null, date: null };
}

// payments in prod-eu: replicas from prod, db.host here, db.port from base, log.level in prod-eu's defaults
const PROVENANCE = [
  entry("replicas", "prod"),
  entry("db.host", "prod-eu"),
  entry("db.port", "base"),
  entry("db.password", "prod-eu", "secrets"),
  entry("log.level", "prod-eu", "defaults"),
  { ...entry("tags", "prod-eu"), path: ["tags"] },
];

describe("provenance", () => {
  it("says where each value comes from", () => {
    const words = (path: string[]) => {
      const origin = originOf(PROVENANCE, "prod-eu", path);
      return origin && describeOrigin(origin);
    };
    expect(words(["replicas"])).toBe("inherited from prod (service)");
    expect(words(["db", "host"])).toBe("set here");
    expect(words(["db", "port"])).toBe("inherited from base (service)");
    expect(words(["log", "level"])).toBe("set here, in config/prod-eu/_defaults.yaml (every service of prod-eu)");
    expect(words(["tags", "0"])).toBe("set here"); // an item of a list set as a whole
    expect(words(["db"])).toBe("2 set here, 1 inherited");
    expect(words(["public_url"])).toBeNull();
  });

  it("resets only what this environment's layer of the service sets", () => {
    expect(resettable(PROVENANCE, "prod-eu", ["db", "host"])).toBe(true);
    expect(resettable(PROVENANCE, "prod-eu", ["replicas"])).toBe(false); // inherited already
    expect(resettable(PROVENANCE, "prod-eu", ["log", "level"])).toBe(false); // the env's defaults file
    expect(resettable(PROVENANCE, "prod-eu", ["db", "password"])).toBe(false); // encrypted layer
    expect(resettable(PROVENANCE, "prod-eu", ["db"])).toBe(false); // holds a secret of this env
    expect(resettable(PROVENANCE, "prod", ["replicas"])).toBe(true);
    expect(resettable(PROVENANCE, "prod-eu", ["tags"])).toBe(true);
    expect(resettable(PROVENANCE, "prod-eu", ["tags", "0"])).toBe(false); // an item: the list is replaced whole
    expect(resetPatch(["db", "host"])).toEqual({ db: { host: null } });
  });
});

describe("a save", () => {
  const secrets = new Set(["/db/password"]);
  const before = { replicas: 3, db: { host: "h", port: 5432, password: MASK }, tags: ["a"], extra: { x: 1 } };

  it("is the merge patch of what changed, secrets left out while masked", () => {
    const after = { replicas: 4, db: { host: "h", port: 5432, password: MASK }, tags: ["a", "b"] };
    expect(saveOf(before, after, secrets)).toEqual({ patch: { replicas: 4, tags: ["a", "b"], extra: null }, secrets: [] });
    expect(saveOf(before, before, secrets)).toEqual({ patch: null, secrets: [] });
  });

  it("sends a changed secret apart, never in the patch", () => {
    const after = { ...before, db: { ...before.db, password: "a-new-long-password" } };
    expect(saveOf(before, after, secrets)).toEqual({ patch: null, secrets: [{ key: "db.password", value: "a-new-long-password" }] });
    const cleared = { ...before, db: { host: "h", port: 5432 } }; // a secret emptied in the form
    expect(saveOf(before, cleared, secrets).patch).toBeNull();
  });

  it("finds the secrets in the schema and in the secrets layers", () => {
    const schema = {
      properties: {
        token: { type: "string", writeOnly: true },
        db: { properties: { password: { type: "string", "x-cfgctl-secret": true }, host: { type: "string" } } },
      },
    };
    const found = secretPointersOf(schema, [entry("api.key", "prod", "secrets")]);
    expect([...found].sort()).toEqual(["/api/key", "/db/password", "/token"]);
    expect(uiSchemaOf(found)).toMatchObject({ db: { password: { "ui:widget": "password" } }, token: { "ui:widget": "password" } });
    const masked = maskedSecret(found);
    expect(masked("/token", { token: MASK })).toBe(true);
    expect(masked("/token", { token: "typed" })).toBe(false);
    expect(masked("/db/host", { db: { host: MASK } })).toBe(false);
  });
});

describe("the server's errors", () => {
  const diagnostic = (d: Partial<Diagnostic>): Diagnostic => ({
    severity: "error",
    code: "schema",
    message: "",
    path: null,
    hint: null,
    pairs: [{ service: "payments", env: "prod" }],
    ...d,
  });

  it("go on the field their pointer names, the env named when it is another one", () => {
    const errors = serverErrors(
      [
        diagnostic({ path: "replicas", pointer: "/replicas", message: 'replicas: expected integer, got string "many" (schema web-service@2)' }),
        diagnostic({ path: "features.a.b", pointer: "/features/a.b", message: "features.a.b: expected boolean" }),
        diagnostic({ path: "db.pool_size", pointer: "/db/pool_size", message: "db.pool_size: 0 is less than 1", pairs: [{ service: "payments", env: "prod-eu" }] }),
        diagnostic({ path: "db.port", message: "db.port: too big" }), // an older server: no pointer
        diagnostic({ severity: "warning", path: "x", pointer: "/x", message: "x: a warning" }),
      ],
      "payments",
      "prod",
    );
    expect(errors).toEqual([
      { pointer: "/replicas", message: 'expected integer, got string "many" (schema web-service@2)' },
      { pointer: "/features/a.b", message: "expected boolean" },
      { pointer: "/db/pool_size", message: "in prod-eu (inherits prod): 0 is less than 1" },
      { pointer: "/db/port", message: "too big" },
    ]);
  });
});

describe("the schema", () => {
  const common = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $defs: {
      port: { type: "integer", minimum: 1, maximum: 65535 },
      server: { type: "object", required: ["port"], properties: { host: { type: "string" }, port: { $ref: "#/$defs/port" } } },
    },
  };
  const service = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: {
      server: { $ref: "common.schema.json#/$defs/server", description: "Where it listens" },
      replicas: { type: "integer", minimum: 1 },
      db: { properties: { port: { $ref: "common.schema.json#/$defs/port" } } },
      tree: { $ref: "#/$defs/node" },
    },
    $defs: { node: { type: "object", properties: { child: { $ref: "#/$defs/node" } } } },
  };

  it("is bundled from the repository's files, with the refs' siblings kept", () => {
    expect(resolveFile("schemas/web-service.v2.schema.json", "common.schema.json#/$defs/server")).toBe("schemas/common.schema.json");
    expect(resolveFile("schemas/a/b.json", "../c.json")).toBe("schemas/c.json");
    expect(referencedFiles(service, "schemas/web.json")).toEqual(["schemas/common.schema.json"]);
    const bundled = bundle(service, "schemas/web.json", { "schemas/common.schema.json": common });
    expect(bundled.properties).toMatchObject({
      server: { type: "object", description: "Where it listens", properties: { port: { type: "integer", maximum: 65535 } } },
      db: { properties: { port: { type: "integer", minimum: 1 } } },
      tree: { type: "object", properties: { child: {} } }, // a recursive $ref stops
    });
    expect(JSON.stringify(bundled)).not.toContain("$ref");
    const errors = new CfworkerValidator().validateFormData({ server: { port: 70000 }, replicas: 1 }, bundled).errors;
    expect(errors.map((e) => e.property)).toEqual([".server.port"]);
  });

  it("names a file the server does not have", () => {
    expect(() => bundle(service, "schemas/web.json", {})).toThrow(/cannot resolve \$ref common.schema.json/);
  });
});
