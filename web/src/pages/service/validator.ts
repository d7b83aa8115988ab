// react-jsonschema-form's ValidatorType over @cfworker/json-schema, which interprets a schema
// instead of compiling it: no `new Function`, so it runs under the dashboard's CSP (no
// 'unsafe-eval'), where @rjsf/validator-ajv8 cannot. Drafts 4, 7, 2019-09 and 2020-12, by the
// schema's $schema (2020-12 without one, as the server). The server validates again and has the
// last word; this gives the same verdict sooner, on the field.
import { Validator, type OutputUnit, type SchemaDraft } from "@cfworker/json-schema";
import {
  createErrorHandler,
  getDefaultFormState,
  toErrorSchema,
  unwrapErrorHandler,
  validationDataMerge,
  type CustomValidator,
  type ErrorSchema,
  type ErrorTransformer,
  type RJSFSchema,
  type RJSFValidationError,
  type UiSchema,
  type ValidationData,
  type ValidatorType,
} from "@rjsf/utils";
import { decodePointer, dottedOf } from "./pointers";

/** An error of a value, by the JSON pointer of that value (RFC 6901, "" for the document). */
export interface SchemaError {
  pointer: string;
  keyword: string;
  message: string;
}

// Errors that only say "something below failed": their causes are reported on their own.
const WRAPPERS = new Set([
  "properties",
  "patternProperties",
  "items",
  "prefixItems",
  "additionalItems",
  "unevaluatedItems",
  "contains",
  "$ref",
  "$recursiveRef",
  "allOf",
  "dependentSchemas",
  "if",
  "then",
  "else",
  "propertyNames",
]);

export function draftOf(schema: unknown): SchemaDraft {
  const id = typeof schema === "object" && schema !== null ? (schema as { $schema?: unknown }).$schema : undefined;
  const text = typeof id === "string" ? id : "";
  if (text.includes("draft-04")) return "4";
  if (text.includes("draft-06") || text.includes("draft-07")) return "7";
  if (text.includes("2019-09")) return "2019-09";
  return "2020-12";
}

const compiled = new WeakMap<object, Validator>();

function validatorOf(schema: RJSFSchema): Validator {
  let found = compiled.get(schema);
  if (!found) {
    found = new Validator(schema as never, draftOf(schema), false);
    compiled.set(schema, found);
  }
  return found;
}

/** Every error of `value` against `schema`, each once, on the value it concerns. */
export function schemaErrors(schema: RJSFSchema, value: unknown): SchemaError[] {
  const result = validatorOf(schema).validate(value);
  if (result.valid) return [];
  return leafErrors(result.errors);
}

/** cfworker's output ("basic": every failing keyword, parents included) reduced to the errors
 * a person acts on: the causes, on their values; a missing required key on where it would be;
 * the alternatives of a oneOf/anyOf that does not match told once, not branch by branch. */
export function leafErrors(units: OutputUnit[]): SchemaError[] {
  const out: SchemaError[] = [];
  const seen = new Set<string>();
  const add = (pointer: string, keyword: string, message: string) => {
    const key = `${pointer}\u0000${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ pointer, keyword, message });
    }
  };
  const falseAt = new Set(units.filter((u) => u.keyword === "false").map((u) => pointerOf(u.instanceLocation)));
  const alternatives = units.filter((u) => u.keyword === "oneOf" || u.keyword === "anyOf");
  for (const unit of units) {
    const pointer = pointerOf(unit.instanceLocation);
    if (WRAPPERS.has(unit.keyword) || unit.keyword === "false") continue;
    if (insideAlternative(unit, pointer, alternatives)) continue;
    if (unit.keyword === "required") {
      const name = /"(.*)"/.exec(unit.error)?.[1] ?? "";
      add(`${pointer}/${escape(name)}`, "required", "is required");
    } else if (unit.keyword === "additionalProperties" || unit.keyword === "unevaluatedProperties") {
      const name = /"(.*)"/.exec(unit.error)?.[1] ?? "";
      if (falseAt.has(`${pointer}/${escape(name)}`)) add(pointer, unit.keyword, `has a key the schema does not allow: ${name}`);
    } else {
      add(pointer, unit.keyword, messageOf(unit));
    }
  }
  return out;
}

function insideAlternative(unit: OutputUnit, pointer: string, alternatives: OutputUnit[]): boolean {
  // an error of one branch of a oneOf/anyOf that failed: the oneOf's error says it, once, on
  // its value (as the server does: which branch was meant, no validator can tell)
  return alternatives.some((alt) => {
    const at = pointerOf(alt.instanceLocation);
    return alt !== unit && unit.keywordLocation.startsWith(`${alt.keywordLocation}/`) && (pointer === at || pointer.startsWith(`${at}/`));
  });
}

function messageOf(unit: OutputUnit): string {
  if (unit.keyword === "oneOf" || unit.keyword === "anyOf") {
    return /0 matches/.test(unit.error) || unit.keyword === "anyOf"
      ? "matches none of the allowed forms"
      : "matches more than one of the allowed forms";
  }
  const text = unit.error.replace(/^Instance /, "").replace(/\.$/, "");
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function pointerOf(location: string): string {
  return location.replace(/^#/, "");
}

function escape(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** An rjsf ErrorSchema of errors by pointer: each message under its value's path. */
export function errorSchemaOf(errors: { pointer: string; message: string }[]): ErrorSchema {
  const root: Record<string, unknown> = {};
  for (const { pointer, message } of errors) {
    let node = root;
    for (const part of decodePointer(pointer)) {
      const key = String(part);
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    ((node.__errors ??= []) as string[]).push(message);
  }
  return root as ErrorSchema;
}

function toRjsf(error: SchemaError): RJSFValidationError {
  const property = dottedOf(decodePointer(error.pointer));
  return {
    name: error.keyword,
    property: property ? `.${property}` : ".",
    message: error.message,
    params: { pointer: error.pointer },
    stack: property ? `${property}: ${error.message}` : error.message,
    schemaPath: "",
  };
}

export class CfworkerValidator implements ValidatorType {
  /** `ignore(pointer, formData)`: errors the page knows are none (a secret still masked). */
  constructor(private readonly ignore?: (pointer: string, formData: unknown) => boolean) {}

  validateFormData(
    formData: unknown,
    schema: RJSFSchema,
    customValidate?: CustomValidator,
    transformErrors?: ErrorTransformer,
    uiSchema?: UiSchema,
  ): ValidationData<unknown> {
    const ignore = this.ignore;
    const found = schemaErrors(schema, formData);
    let errors = (ignore ? found.filter((e) => !ignore(e.pointer, formData)) : found).map(toRjsf);
    if (transformErrors) errors = transformErrors(errors, uiSchema);
    const byPointer = errors.filter((e) => typeof e.params?.pointer === "string");
    const others = errors.filter((e) => typeof e.params?.pointer !== "string");
    const errorSchema = mergeErrorSchemas(
      errorSchemaOf(byPointer.map((e) => ({ pointer: e.params.pointer as string, message: e.message ?? e.stack }))),
      toErrorSchema(others),
    );
    if (!customValidate) return { errors, errorSchema };
    const full = getDefaultFormState(this, schema, formData, schema, true);
    const handler = customValidate(full, createErrorHandler(full), uiSchema, errorSchema);
    return validationDataMerge({ errors, errorSchema }, unwrapErrorHandler(handler));
  }

  isValid(schema: RJSFSchema, formData: unknown, rootSchema: RJSFSchema): boolean {
    try {
      // rjsf asks this of sub-schemas (which oneOf option a value matches): their local $refs
      // point into the root, so validate against the sub-schema with the root's definitions.
      const target = schema === rootSchema ? schema : withDefinitionsOf(schema, rootSchema);
      return validatorOf(target).validate(formData).valid;
    } catch {
      return false;
    }
  }

  rawValidation<Result = unknown>(schema: RJSFSchema, formData?: unknown): { errors?: Result[]; validationError?: Error } {
    try {
      return { errors: schemaErrors(schema, formData) as Result[] };
    } catch (e) {
      return { validationError: e instanceof Error ? e : new Error(String(e)) };
    }
  }
}

const withDefs = new WeakMap<object, RJSFSchema>();

function withDefinitionsOf(schema: RJSFSchema, root: RJSFSchema): RJSFSchema {
  if (typeof schema !== "object" || schema === null) return schema;
  let found = withDefs.get(schema);
  if (!found) {
    found = { ...schema, $defs: root.$defs, definitions: root.definitions } as RJSFSchema;
    if (!root.$defs) delete found.$defs;
    if (!root.definitions) delete found.definitions;
    if (root.$schema && !found.$schema) found.$schema = root.$schema;
    withDefs.set(schema, found);
  }
  return found;
}

function mergeErrorSchemas(a: ErrorSchema, b: ErrorSchema): ErrorSchema {
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [key, value] of Object.entries(b as Record<string, unknown>)) {
    if (key === "__errors") out.__errors = [...((out.__errors as string[]) ?? []), ...(value as string[])];
    else out[key] = key in out ? mergeErrorSchemas(out[key] as ErrorSchema, value as ErrorSchema) : value;
  }
  return out as ErrorSchema;
}

export const validator = new CfworkerValidator();
