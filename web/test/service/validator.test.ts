// The browser's validator of the Service page: @cfworker/json-schema behind rjsf's
// ValidatorType. It must find the errors the server finds (agreement.json, which
// tests/web/test_service_agreement.py holds the server to), on the same values.
import { describe, expect, it } from "vitest";
import type { RJSFSchema } from "@rjsf/utils";
import { CfworkerValidator, draftOf, errorSchemaOf, schemaErrors } from "../../src/pages/service/validator";
import agreement from "./agreement.json";

const schema = agreement.schema as RJSFSchema;

describe("the validator adapter", () => {
  it.each(agreement.cases.map((c) => [c.name, c] as const))("agrees with the server: %s", (_name, c) => {
    const pointers = [...new Set(schemaErrors(schema, c.document).map((e) => e.pointer))].sort();
    expect(pointers).toEqual(c.pointers);
  });

  it("never compiles code: it runs where eval is forbidden", () => {
    const original = globalThis.Function;
    const refuse = function () {
      throw new EvalError("the CSP forbids eval");
    } as unknown as FunctionConstructor;
    globalThis.Function = refuse;
    try {
      expect(schemaErrors({ ...schema }, { name: "pay", replicas: 0 }).map((e) => e.pointer)).toEqual(["/replicas"]);
    } finally {
      globalThis.Function = original;
    }
  });

  it("gives rjsf its errors under each field, and the list", () => {
    const validator = new CfworkerValidator();
    const { errors, errorSchema } = validator.validateFormData(
      { name: "Pay", replicas: 1, db: { host: "h" }, features: { "a.b/c": "yes" } },
      schema,
    );
    expect(errorSchema).toMatchObject({
      name: { __errors: [expect.stringMatching(/pattern/)] },
      db: { port: { __errors: ["is required"] } },
      features: { "a.b/c": { __errors: [expect.stringMatching(/boolean/)] } },
    });
    expect(errors.map((e) => e.property).sort()).toEqual([".db.port", ".features.a.b/c", ".name"]);
  });

  it("lets the page drop errors (transformErrors) and add its own (customValidate)", () => {
    const validator = new CfworkerValidator();
    const { errors, errorSchema } = validator.validateFormData(
      { name: "pay", replicas: 0, db: { host: "h", port: 1, password: "***" } },
      schema,
      (data, handler) => {
        if ((data as { name: string }).name === "pay") handler.name?.addError("taken");
        return handler;
      },
      (list) => list.filter((e) => e.params?.pointer !== "/db/password"),
    );
    expect(errors.map((e) => e.property)).toEqual([".replicas", ".name"]); // the password's dropped, "taken" added
    expect(errorSchema).toMatchObject({ name: { __errors: ["taken"] }, replicas: { __errors: ["0 is less than 1"] } });
    expect((errorSchema as { db?: { password?: { __errors?: string[] } } }).db?.password?.__errors ?? []).toEqual([]);
  });

  it("leaves out the errors the page says are none", () => {
    const validator = new CfworkerValidator((pointer, data) => pointer === "/db/password" && (data as { db: { password: string } }).db.password === "***");
    const masked = { name: "pay", replicas: 1, db: { host: "h", port: 1, password: "***" } };
    expect(validator.validateFormData(masked, schema).errors).toEqual([]);
    const changed = { ...masked, db: { ...masked.db, password: "short" } };
    expect(validator.validateFormData(changed, schema).errors.map((e) => e.property)).toEqual([".db.password"]);
  });

  it("answers isValid for the options of a oneOf, against the root's definitions", () => {
    const validator = new CfworkerValidator();
    const root = { $defs: { port: { type: "integer", maximum: 10 } }, oneOf: [{ $ref: "#/$defs/port" }, { type: "string" }] } as RJSFSchema;
    const option = { $ref: "#/$defs/port" } as RJSFSchema;
    expect(validator.isValid(option, 5, root)).toBe(true);
    expect(validator.isValid(option, 50, root)).toBe(false);
    expect(validator.isValid({ type: "string" }, 5, root)).toBe(false);
  });

  it("reads the draft of $schema, 2020-12 without one", () => {
    expect(draftOf({ $schema: "http://json-schema.org/draft-07/schema#" })).toBe("7");
    expect(draftOf({ $schema: "http://json-schema.org/draft-04/schema#" })).toBe("4");
    expect(draftOf({ $schema: "https://json-schema.org/draft/2019-09/schema" })).toBe("2019-09");
    expect(draftOf({})).toBe("2020-12");
  });

  it("puts errors by pointer, keys with dots and slashes included", () => {
    expect(errorSchemaOf([{ pointer: "/a.b/c~1d/0", message: "bad" }])).toEqual({ "a.b": { "c/d": { "0": { __errors: ["bad"] } } } });
    expect(errorSchemaOf([{ pointer: "", message: "whole" }])).toEqual({ __errors: ["whole"] });
  });
});
