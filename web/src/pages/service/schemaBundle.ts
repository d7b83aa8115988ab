// One self-contained schema for the form and the validator: the service's schema with every
// $ref replaced by what it names, in its own file or another schema of the repository
// (`common.schema.json#/$defs/server`), as the server resolves them (offline, by file name).
import { decodePointer } from "./pointers";

type Json = unknown;
type Schema = Record<string, Json>;

/** The repository path a $ref's file part names, relative to the file that holds it. */
export function resolveFile(fromFile: string, ref: string): string {
  const target = ref.split("#", 1)[0] ?? "";
  if (!target) return fromFile;
  const parts = fromFile.split("/").slice(0, -1);
  for (const part of target.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "." && part !== "") parts.push(part);
  }
  return parts.join("/");
}

/** The other files the schema of `file` refers to ($refs to another file), directly. */
export function referencedFiles(schema: Json, file: string): string[] {
  const out = new Set<string>();
  walk(schema, (node) => {
    const ref = node.$ref;
    if (typeof ref === "string" && !ref.startsWith("#")) out.add(resolveFile(file, ref));
  });
  return [...out];
}

function walk(value: Json, visit: (node: Schema) => void): void {
  if (Array.isArray(value)) value.forEach((item) => walk(item, visit));
  else if (value && typeof value === "object") {
    visit(value as Schema);
    Object.values(value).forEach((item) => walk(item, visit));
  }
}

export class UnresolvedRef extends Error {}

/** `root` (of `rootFile`) with its $refs inlined from `documents` (file -> schema). A $ref
 * that comes back to itself (a recursive schema) is left as `{}` past that point: the form
 * cannot show an endless tree, and the server still checks it. */
export function bundle(root: Schema, rootFile: string, documents: Record<string, Json>): Schema {
  const docs = { ...documents, [rootFile]: root };
  const inline = (node: Json, file: string, trail: string[]): Json => {
    if (Array.isArray(node)) return node.map((item) => inline(item, file, trail));
    if (!node || typeof node !== "object") return node;
    const { $ref, ...rest } = node as Schema;
    const out: Schema = {};
    for (const [key, value] of Object.entries(rest)) {
      out[key] = key === "enum" || key === "const" || key === "default" || key === "examples" ? value : inline(value, file, trail);
    }
    if (typeof $ref !== "string") return out;
    const target = resolveFile(file, $ref);
    const where = `${target}#${$ref.split("#")[1] ?? ""}`;
    if (trail.includes(where)) return out;
    const doc = docs[target];
    if (doc === undefined) throw new UnresolvedRef(`cannot resolve $ref ${$ref} in ${file}`);
    const found = at(doc, $ref.split("#")[1] ?? "");
    if (found === undefined) throw new UnresolvedRef(`$ref ${$ref} in ${file} names nothing`);
    const resolved = inline(found, target, [...trail, where]);
    if (typeof resolved !== "object" || resolved === null) return out;
    // the $ref's siblings (a description, a title) are kept beside what it names
    const { $schema: _s, $id: _i, $defs: _d, ...named } = resolved as Schema;
    return { ...named, ...out };
  };
  const bundled = inline(root, rootFile, []) as Schema;
  delete bundled.$defs;
  delete bundled.definitions;
  return bundled;
}

function at(doc: Json, fragment: string): Json {
  let node = doc;
  for (const part of decodePointer(decodeURIComponent(fragment))) {
    if (!node || typeof node !== "object") return undefined;
    node = (node as Record<string, Json>)[part];
  }
  return node;
}
