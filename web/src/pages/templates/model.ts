// The Templates page's data and rules, as pure functions: the catalogue (GET /api/v1/templates),
// a form field per typed parameter, the browser's check of a value (the server, which runs the
// same declarations through `cfgctl new service`'s code, has the last word), and the request
// that opens the change request (POST /api/v1/services).

export interface TemplateParameter {
  name: string;
  type: string; // JSON Schema type: string, integer, number, boolean, array, object, any
  required: boolean;
  default?: unknown;
  constraints: {
    minimum?: number;
    maximum?: number;
    pattern?: string;
    enum?: unknown[];
    format?: string;
    minLength?: number;
    maxLength?: number;
  };
  description: string;
}

export interface TemplateRow {
  name: string;
  version?: number;
  schema?: string;
  description?: string;
  parameters?: TemplateParameter[];
  files?: string[];
  file?: string;
  services?: { service: string; version: number; behind: boolean }[];
  problem?: string; // a template that cannot be read
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Environment {
  name: string;
  inherits: string | null;
  protected: boolean;
  abstract: boolean;
}

export interface Catalogue {
  templates: TemplateRow[];
  environments: Environment[];
  services: string[];
}

export type FieldKind = "text" | "integer" | "number" | "boolean" | "choice" | "json";

export interface Field {
  name: string;
  kind: FieldKind;
  label: string;
  required: boolean;
  initial: string; // the input's text (booleans: "true"/"false")
  help: string;
  parameter: TemplateParameter;
}

export const SERVICE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function kindOf(p: TemplateParameter): FieldKind {
  if (p.constraints.enum && p.constraints.enum.length > 0) return "choice";
  if (p.type === "integer" || p.type === "number" || p.type === "boolean") return p.type;
  if (p.type === "string") return "text";
  return "json";
}

function textOf(value: unknown, kind: FieldKind): string {
  if (value === undefined || value === null) return kind === "boolean" ? "false" : "";
  if (kind === "json" || (kind === "choice" && typeof value !== "string")) return JSON.stringify(value);
  return String(value);
}

/** The parameter's type and bounds, in words: "integer, at least 1, at most 65535". */
export function typeText(p: TemplateParameter): string {
  const c = p.constraints;
  const bounds: string[] = [];
  if (c.minimum !== undefined) bounds.push(`at least ${c.minimum}`);
  if (c.maximum !== undefined) bounds.push(`at most ${c.maximum}`);
  if (c.minLength !== undefined) bounds.push(`${c.minLength} characters or more`);
  if (c.maxLength !== undefined) bounds.push(`${c.maxLength} characters or fewer`);
  if (c.pattern) bounds.push(`matching ${c.pattern}`);
  if (c.enum) bounds.push(`one of ${c.enum.map((e) => JSON.stringify(e)).join(", ")}`);
  const type = p.type === "any" ? "any value (JSON)" : p.type;
  return `${type}${bounds.length ? `, ${bounds.join(", ")}` : ""}`;
}

/** What the form says about a parameter beside its label: description, type, default. */
export function helpOf(p: TemplateParameter): string {
  const parts: string[] = [];
  if (p.description) parts.push(p.description.replace(/[.\s]+$/, ""));
  parts.push(`Type: ${typeText(p)}`);
  if (p.default !== undefined) parts.push(`Default: ${JSON.stringify(p.default)}`);
  return `${parts.join(". ")}.`;
}

export function fieldsOf(template: TemplateRow): Field[] {
  return (template.parameters ?? []).map((p) => {
    const kind = kindOf(p);
    return {
      name: p.name,
      kind,
      label: p.name,
      required: p.required,
      initial: textOf(p.default, kind),
      help: helpOf(p),
      parameter: p,
    };
  });
}

export type Parsed = { ok: true; value: unknown; given: boolean } | { ok: false; error: string };

/** The value of a field's text, typed, and checked against the parameter's declaration.
 * An empty optional field is "not given" (the template's default applies on the server). */
export function parseField(field: Field, text: string): Parsed {
  const p = field.parameter;
  const c = p.constraints;
  if (field.kind !== "boolean" && text.trim() === "") {
    return field.required ? { ok: false, error: `${field.name} is required` } : { ok: true, value: undefined, given: false };
  }
  let value: unknown = text;
  if (field.kind === "boolean") value = text === "true";
  else if (field.kind === "integer" || field.kind === "number") {
    const n = Number(text.trim());
    if (!Number.isFinite(n)) return { ok: false, error: `${field.name} must be a number` };
    if (field.kind === "integer" && !Number.isInteger(n)) return { ok: false, error: `${field.name} must be a whole number` };
    value = n;
  } else if (field.kind === "json" || field.kind === "choice") {
    const found = field.kind === "choice" ? (c.enum ?? []).find((e) => textOf(e, "choice") === text) : undefined;
    if (field.kind === "choice") {
      if (found === undefined) return { ok: false, error: `${field.name} must be one of ${(c.enum ?? []).map((e) => JSON.stringify(e)).join(", ")}` };
      value = found;
    } else {
      try {
        value = JSON.parse(text);
      } catch {
        return { ok: false, error: `${field.name} must be JSON (e.g. ["a", "b"] or {"k": 1})` };
      }
    }
  }
  const problem = checkConstraints(field.name, p, value);
  return problem ? { ok: false, error: problem } : { ok: true, value, given: true };
}

function checkConstraints(name: string, p: TemplateParameter, value: unknown): string | null {
  const c = p.constraints;
  if (typeof value === "number") {
    if (c.minimum !== undefined && value < c.minimum) return `${name} must be at least ${c.minimum}`;
    if (c.maximum !== undefined && value > c.maximum) return `${name} must be at most ${c.maximum}`;
  }
  if (typeof value === "string") {
    if (c.minLength !== undefined && value.length < c.minLength) return `${name} needs at least ${c.minLength} characters`;
    if (c.maxLength !== undefined && value.length > c.maxLength) return `${name} takes at most ${c.maxLength} characters`;
    if (c.pattern && !safeTest(c.pattern, value)) return `${name} must match ${c.pattern}`;
  }
  if (p.type === "array" && !Array.isArray(value)) return `${name} must be a list`;
  if (p.type === "object" && (typeof value !== "object" || value === null || Array.isArray(value))) return `${name} must be an object`;
  return null;
}

function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, "u").test(value);
  } catch {
    return true; // a pattern the browser cannot read: the server decides
  }
}

export function checkServiceName(name: string, taken: string[]): string | null {
  if (!name) return "the service needs a name";
  if (!SERVICE_NAME.test(name)) return "use lower-case letters, digits, '-' and '_' (it becomes a file name)";
  if (taken.includes(name)) return `service ${name} already exists`;
  return null;
}

export interface Request {
  template: string;
  service: string;
  params: Record<string, unknown>;
  title?: string;
}

/** The request body, or the errors by field (`service` for the name). */
export function buildRequest(
  template: TemplateRow,
  fields: Field[],
  service: string,
  texts: Record<string, string>,
  taken: string[],
): { request: Request; errors: {} } | { request: null; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const nameError = checkServiceName(service, taken);
  if (nameError) errors.service = nameError;
  const params: Record<string, unknown> = {};
  for (const field of fields) {
    const parsed = parseField(field, texts[field.name] ?? field.initial);
    if (!parsed.ok) errors[field.name] = parsed.error;
    else if (parsed.given) params[field.name] = parsed.value;
  }
  if (Object.keys(errors).length) return { request: null, errors };
  return { request: { template: template.name, service, params }, errors: {} };
}

/** The SERVICE@ENV pairs a new service will have: every environment that is not abstract. */
export function pairsOf(service: string, environments: Environment[]): string[] {
  return environments.filter((e) => !e.abstract).map((e) => `${service}@${e.name}`);
}
