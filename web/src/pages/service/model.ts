// The Service page's model, pure functions: where each value comes from (provenance), what a
// save sends (a JSON merge patch of this environment's layer, secrets apart), and the server's
// errors placed on their fields.
import type { Diagnostic, ProvenanceEntry } from "../../api/types";
import { decodePointer, encodePointer, type Path } from "./pointers";

export const MASK = "***";

export type Origin =
  | { kind: "here"; entry: ProvenanceEntry } // this environment's own layer: resettable
  | { kind: "here-defaults"; entry: ProvenanceEntry } // this environment's _defaults.yaml
  | { kind: "inherited"; entry: ProvenanceEntry } // another environment's layer
  | { kind: "mixed"; here: number; inherited: number }; // an object: some of each below

function startsWith(path: Path, prefix: Path): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => String(p) === String(path[i]));
}

function originOfEntry(entry: ProvenanceEntry, env: string): Origin {
  if (entry.env !== env) return { kind: "inherited", entry };
  return entry.layer === "defaults" ? { kind: "here-defaults", entry } : { kind: "here", entry };
}

/** Where the value at `path` comes from in `env`: the entry of that leaf (or of the array
 * holding it), or, for an object, how many of its leaves are set here and how many inherited.
 * null when no layer sets it (a value the form adds). */
export function originOf(provenance: ProvenanceEntry[], env: string, path: Path): Origin | null {
  const exact = provenance.find((e) => startsWith(path, e.path));
  if (exact) return originOfEntry(exact, env);
  const below = provenance.filter((e) => startsWith(e.path, path));
  if (!below.length) return null;
  const here = below.filter((e) => e.env === env).length;
  if (here === 0 && below.every((e) => e.env === below[0]!.env)) return { kind: "inherited", entry: below[0]! };
  if (here === below.length && below.every((e) => e.layer === "service")) return { kind: "here", entry: below[0]! };
  return { kind: "mixed", here, inherited: below.length - here };
}

/** The words of an origin beside its field. */
export function describeOrigin(origin: Origin): string {
  switch (origin.kind) {
    case "here":
      return "set here";
    case "here-defaults":
      return `set here, in ${origin.entry.file} (every service of ${origin.entry.env})`;
    case "inherited":
      return `inherited from ${origin.entry.env} (${origin.entry.layer === "defaults" ? "defaults" : origin.entry.layer})`;
    case "mixed":
      return `${origin.here} set here, ${origin.inherited} inherited`;
  }
}

/** Whether "reset to inherited" can remove the value: set in this environment's own layer of
 * the service (a merge patch edits that file only; never a secret: its layer is encrypted;
 * never an item of a list: a merge patch replaces a list whole). */
export function resettable(provenance: ProvenanceEntry[], env: string, path: Path): boolean {
  if (!path.length) return false;
  const below = provenance.filter((e) => startsWith(e.path, path));
  return below.length > 0 && below.some((e) => e.env === env && e.layer === "service") && below.every((e) => e.layer !== "secrets" || e.env !== env);
}

/** The merge patch that removes `path` from this environment's layer: {"db": {"pool_size": null}}. */
export function resetPatch(path: Path): Record<string, unknown> {
  let patch: unknown = null;
  for (const part of [...path].reverse()) patch = { [String(part)]: patch };
  return patch as Record<string, unknown>;
}

export interface SecretChange {
  key: string; // dotted, as PUT /secrets/{service}/{env}/{key} names it
  value: unknown;
}

export interface Save {
  patch: Record<string, unknown> | null; // null: nothing but secrets changed
  secrets: SecretChange[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** What a save sends: the RFC 7396 merge patch from `before` to `after` (a removed key is
 * null), without the secrets (`secretPointers`): a masked secret left as it is is never sent;
 * one changed goes apart, as a PUT of its own (the server refuses secrets in a patch). */
export function saveOf(before: unknown, after: unknown, secretPointers: Set<string>): Save {
  const secrets: SecretChange[] = [];
  const diff = (a: unknown, b: unknown, path: Path): unknown => {
    const pointer = encodePointer(path);
    if (secretPointers.has(pointer)) {
      if (b !== undefined && b !== MASK && !equal(a, b)) secrets.push({ key: path.join("."), value: b });
      return undefined;
    }
    if (isObject(a) && isObject(b)) {
      const out: Record<string, unknown> = {};
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
        const sub = key in b ? diff(a[key], b[key], [...path, key]) : hasSecretBelow(secretPointers, [...path, key]) ? undefined : null;
        if (sub !== undefined) out[key] = sub;
      }
      return Object.keys(out).length ? out : undefined;
    }
    if (b === undefined) return a === undefined ? undefined : null;
    return equal(a, b) ? undefined : b;
  };
  const patch = diff(before, after, []);
  return { patch: isObject(patch) ? patch : null, secrets };
}

function hasSecretBelow(secretPointers: Set<string>, path: Path): boolean {
  const pointer = encodePointer(path);
  return [...secretPointers].some((p) => p === pointer || p.startsWith(`${pointer}/`));
}

/** The pointers of secret values: keys the schema marks `x-cfgctl-secret` or `writeOnly`
 * (object properties, followed through the bundled schema), and whatever a secrets layer sets. */
export function secretPointersOf(schema: unknown, provenance: ProvenanceEntry[]): Set<string> {
  const out = new Set<string>(provenance.filter((e) => e.layer === "secrets").map((e) => encodePointer(e.path)));
  const visit = (node: unknown, path: Path) => {
    if (!isObject(node)) return;
    if (node["x-cfgctl-secret"] === true || node.writeOnly === true) out.add(encodePointer(path));
    if (isObject(node.properties)) for (const [key, sub] of Object.entries(node.properties)) visit(sub, [...path, key]);
    for (const key of ["allOf", "anyOf", "oneOf"]) if (Array.isArray(node[key])) (node[key] as unknown[]).forEach((sub) => visit(sub, path));
  };
  visit(schema, []);
  return out;
}

/** The rjsf uiSchema: secrets as password inputs (shown masked, autocomplete off). */
export function uiSchemaOf(secretPointers: Set<string>): Record<string, unknown> {
  const ui: Record<string, unknown> = { "ui:submitButtonOptions": { norender: true } };
  for (const pointer of secretPointers) {
    let node = ui;
    for (const part of decodePointer(pointer)) node = (node[part] ??= {}) as Record<string, unknown>;
    node["ui:widget"] = "password";
    node["ui:autocomplete"] = "off";
  }
  return ui;
}

export interface FieldError {
  pointer: string;
  message: string;
}

/** The errors of a check-failed problem, on their fields: each diagnostic's pointer (the
 * server's; a dotted path when an older server gives none), its message without the path it
 * starts with, and the environment it breaks when that is another one (it inherits this). */
export function serverErrors(diagnostics: Diagnostic[], service: string, env: string): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const d of diagnostics) {
    if (d.severity !== "error") continue;
    const pointer = d.pointer ?? (d.path && d.path !== "(root)" ? encodePointer(d.path.split(".")) : "");
    const envs = d.pairs.filter((p) => p.service === service).map((p) => p.env);
    let message = d.path && d.message.startsWith(`${d.path}: `) ? d.message.slice(d.path.length + 2) : d.message;
    if (envs.length && !envs.includes(env)) message = `in ${envs.join(", ")} (inherits ${env}): ${message}`;
    const key = `${pointer}\u0000${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ pointer, message });
    }
  }
  return out;
}

/** Whether an error at `pointer` is about a secret still masked (`***`, as the server sent
 * it): not the value, which stays as it is, so not the user's to fix (the server, which never
 * decrypts to read, does not check it either). For the validator's `ignore`. */
export function maskedSecret(secretPointers: Set<string>) {
  return (pointer: string, formData: unknown): boolean => secretPointers.has(pointer) && valueAt(formData, pointer) === MASK;
}

function valueAt(data: unknown, pointer: string): unknown {
  let node = data;
  for (const part of decodePointer(pointer)) {
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** The config with every secret value as the server sent it (masked): what the form starts from. */
export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
