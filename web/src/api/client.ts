// The typed client of cfgctl's REST API: one place that adds the token, parses answers and
// turns every error into an ApiError with a readable message.
import { ApiError, errorOf, networkError } from "./problem";
import type {
  CompareDocument,
  EnvironmentItem,
  NamedPage,
  Overview,
  PromotionAnswer,
  PromotionRequest,
  Status,
  Whoami,
} from "./types";

export type Query = Record<string, string | string[] | undefined>;

export interface ClientOptions {
  base?: string;
  fetcher?: typeof fetch;
  /** Called when the server refuses the token (401): expired or revoked meanwhile. */
  onUnauthorized?: (error: ApiError) => void;
}

export class ApiClient {
  readonly base: string;
  private readonly token: string | null;
  private readonly fetcher: typeof fetch;
  private readonly onUnauthorized: ((error: ApiError) => void) | undefined;

  constructor(token: string | null, options: ClientOptions = {}) {
    this.token = token;
    this.base = options.base ?? "/api/v1";
    this.fetcher = options.fetcher ?? ((input, init) => fetch(input, init));
    this.onUnauthorized = options.onUnauthorized;
  }

  /** A GET of `path` (below /api/v1) as JSON of type T; ApiError otherwise. */
  async get<T>(path: string, query: Query = {}, signal?: AbortSignal): Promise<T> {
    return this.request<T>("GET", path, query, undefined, signal);
  }

  async request<T>(method: string, path: string, query: Query = {}, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const init: RequestInit = { method, headers, credentials: "omit", cache: "no-store" };
    if (body !== undefined) init.body = JSON.stringify(body);
    if (signal) init.signal = signal;
    let response: Response;
    try {
      response = await this.fetcher(this.base + path + encodeQuery(query), init);
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
      throw networkError(cause);
    }
    if (!response.ok) {
      const error = await errorOf(response);
      if (error.status === 401) this.onUnauthorized?.(error);
      throw error;
    }
    if (response.status === 204) return undefined as T;
    try {
      return (await response.json()) as T;
    } catch {
      throw new ApiError(response.status, "The server's answer is not JSON", "bad-answer");
    }
  }

  whoami(objects: string[] = [], signal?: AbortSignal): Promise<Whoami> {
    return this.get<Whoami>("/whoami", { object: objects.length ? objects : undefined }, signal);
  }

  status(signal?: AbortSignal): Promise<Status> {
    return this.get<Status>("/status", {}, signal);
  }

  overview(signal?: AbortSignal): Promise<Overview> {
    return this.get<Overview>("/overview", {}, signal);
  }

  environments(signal?: AbortSignal): Promise<NamedPage<EnvironmentItem>> {
    return this.get<NamedPage<EnvironmentItem>>("/environments", { limit: "1000" }, signal);
  }

  compare(query: Query, signal?: AbortSignal): Promise<CompareDocument> {
    return this.get<CompareDocument>("/compare", query, signal);
  }

  /** "Make TO like FROM for these keys": opens a change request (202), answered with its id. */
  promote(body: PromotionRequest): Promise<PromotionAnswer> {
    return this.request<PromotionAnswer>("POST", "/promotions", {}, body);
  }
}

export function encodeQuery(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, item);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}
