// Everything the Service page shows, read from the API: the configuration with its provenance
// and ETag, the service's schema bundled with the schemas it refers to, and what the token may do.
import type { ApiClient } from "../../api/client";
import type { ConfigDocument, SchemaList } from "../../api/types";
import { can, type Verdict } from "../../auth/permissions";
import { bundle, referencedFiles } from "./schemaBundle";

export interface Loaded {
  doc: ConfigDocument;
  etag: string;
  schema: Record<string, unknown>;
  schemaName: string; // NAME@VERSION
  edit: Verdict;
}

export async function loadService(client: ApiClient, service: string, env: string, signal: AbortSignal): Promise<Loaded> {
  const object = `${service}@${env}`;
  const [{ doc, etag }, list, who] = await Promise.all([
    client.config(service, env, signal),
    client.schemas(signal),
    client.whoami([object], signal),
  ]);
  const [name = "", version = ""] = doc.schema.split("@");
  const rootFile = fileOf(list, name, Number(version));
  const documents: Record<string, unknown> = {};
  const wanted = [rootFile];
  while (wanted.length) {
    const file = wanted.pop()!;
    if (file in documents) continue;
    const [n, v] = versionOf(list, file);
    const read = await client.schema(n, v, signal);
    documents[file] = read.schema;
    wanted.push(...referencedFiles(read.schema, file).filter((f) => !(f in documents)));
  }
  const schema = bundle(documents[rootFile] as Record<string, unknown>, rootFile, documents);
  return { doc, etag, schema, schemaName: doc.schema, edit: can(who, "edit", object) };
}

function fileOf(list: SchemaList, name: string, version: number): string {
  const item = list.items.find((i) => i.name === name);
  const file = item?.files[item.versions.indexOf(version)];
  if (!file) throw new Error(`the server lists no schema ${name}@${version}`);
  return file;
}

function versionOf(list: SchemaList, file: string): [string, number] {
  for (const item of list.items) {
    const i = item.files.indexOf(file);
    if (i >= 0) return [item.name, item.versions[i]!];
  }
  throw new Error(`no schema of the repository is ${file}`);
}
