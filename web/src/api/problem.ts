// RFC 9457 problem documents, as cfgctl's API answers every error (cfgctl/server/problems.py),
// turned into an Error whose message a person can read: never raw JSON.

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string | null;
  exit_code?: number;
  hint?: string;
  location?: { path: string | null; line: number | null; column: number | null };
  [extra: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly kind: string; // the part after urn:cfgctl:problem:, or "network"
  readonly hint: string | undefined;
  readonly problem: ProblemDocument | undefined;

  constructor(status: number, message: string, kind: string, hint?: string, problem?: ProblemDocument) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.kind = kind;
    this.hint = hint;
    this.problem = problem;
  }

  /** The whole message for a person: what happened, where, and how to fix it. */
  get readable(): string {
    const where = this.problem?.location?.path
      ? ` (${this.problem.location.path}${this.problem.location.line ? `:${this.problem.location.line}` : ""})`
      : "";
    return `${this.message}${where}${this.hint ? `. ${capitalize(this.hint)}.` : ""}`;
  }
}

function capitalize(text: string): string {
  const trimmed = text.replace(/[.\s]+$/, "");
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
}

function isProblem(value: unknown): value is ProblemDocument {
  if (typeof value !== "object" || value === null) return false;
  const doc = value as Record<string, unknown>;
  return typeof doc.detail === "string" && typeof doc.status === "number";
}

/** The ApiError of a response that is not ok: its problem document when it has one. */
export async function errorOf(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (isProblem(body)) {
    const kind = (body.type ?? "").replace(/^urn:cfgctl:problem:/, "") || "unknown";
    return new ApiError(response.status, capitalize(body.detail), kind, body.hint, body);
  }
  const text = response.statusText || "no answer";
  return new ApiError(response.status, `The server answered ${response.status} ${text}`, "http");
}

/** An error that is not an HTTP answer (the server is down, the network failed). */
export function networkError(cause: unknown): ApiError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new ApiError(0, `The server cannot be reached (${why})`, "network", "check that cfgctl serve is running, then retry");
}
