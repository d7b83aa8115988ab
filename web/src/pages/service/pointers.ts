// JSON pointers (RFC 6901) and the dotted keys cfgctl prints (`db.hosts[0].port`).

export type Path = (string | number)[];

export function encodePointer(path: Path): string {
  return path.map((p) => "/" + String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

export function decodePointer(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .replace(/^\//, "")
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

export function dottedOf(path: Path): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number" || /^\d+$/.test(part)) out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out;
}
