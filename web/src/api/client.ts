// The typed client of cfgctl's REST API: one place that adds the token, parses answers and
// turns every error into an ApiError with a readable message.
import { ApiError, errorOf, networkError } from "./problem";
import type {
  ChangeImpact,
  ChangeRequest,
  ChangeState,
  CompareDocument,
  ConfigDocument,
  EnvironmentItem,
  Named,
  NamedPage,
  Overview,
  Page,
  PairCommits,
  PromotionAnswer,
  PromotionRequest,
  Rollout,
  SchemaDocument,
  SchemaList,
  Status,
  Whoami,
} from "./types";

export type ReviewAction = "approve" | "request-changes" | "reject" | "merge";

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
    return (await this.send<T>(method, path, { query, body, signal })).body;
  }

  /** A request with extra headers (If-Match, a media type), answering the body and the headers. */
  async send<T>(method: string, path: string, options: SendOptions = {}): Promise<Answer<T>> {
    const { query = {}, body, signal } = options;
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    Object.assign(headers, options.headers);
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
    if (response.status === 204) return { body: undefined as T, headers: response.headers };
    try {
      return { body: (await response.json()) as T, headers: response.headers };
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

  changes(state?: ChangeState, signal?: AbortSignal): Promise<Page<ChangeRequest>> {
    return this.get<Page<ChangeRequest>>("/changes", { state, limit: "1000" }, signal);
  }

  change(id: number, signal?: AbortSignal): Promise<ChangeRequest> {
    return this.get<ChangeRequest>(`/changes/${id}`, {}, signal);
  }

  changeImpact(id: number, signal?: AbortSignal): Promise<ChangeImpact> {
    return this.get<ChangeImpact>(`/changes/${id}/impact`, {}, signal);
  }

  /** Approve, request changes, reject or merge: the change request as it is after. */
  review(id: number, action: ReviewAction): Promise<ChangeRequest> {
    return this.request<ChangeRequest>("POST", `/changes/${id}/${action}`);
  }

  rollout(commit: string, signal?: AbortSignal): Promise<Rollout> {
    return this.get<Rollout>(`/rollouts/${encodeURIComponent(commit)}`, {}, signal);
  }

  commits(service: string, env: string, key?: string, signal?: AbortSignal): Promise<PairCommits> {
    const path = `/commits/${encodeURIComponent(service)}/${encodeURIComponent(env)}`;
    return this.get<PairCommits>(path, { key: key || undefined }, signal);
  }

  /** Open a change request that undoes `commit` (202: the change request). */
  revert(commit: string): Promise<ChangeRequest> {
    return this.request<ChangeRequest>("POST", "/reverts", {}, { commit });
  }

  names(list: "services" | "environments", signal?: AbortSignal): Promise<Page<Named & { abstract?: boolean }>> {
    return this.get<Page<Named & { abstract?: boolean }>>(`/${list}`, { limit: "1000" }, signal);
  }

  /** The effective configuration of SERVICE in ENV with its provenance, and its ETag; one
   * that fails its schema too (`invalid=true`), with its `errors`: to fix it. */
  async config(service: string, env: string, signal?: AbortSignal): Promise<{ doc: ConfigDocument; etag: string }> {
    const path = `/config/${encodeURIComponent(service)}/${encodeURIComponent(env)}`;
    const query = { invalid: "true" };
    // the ETag a write's If-Match names is the read's without provenance: two reads
    const [plain, full] = await Promise.all([
      this.send<ConfigDocument>("GET", path, { query, signal }),
      this.get<ConfigDocument>(path, { ...query, provenance: "true" }, signal),
    ]);
    return { doc: full, etag: plain.headers.get("etag") ?? "" };
  }

  schemas(signal?: AbortSignal): Promise<SchemaList> {
    return this.get<SchemaList>("/schemas", { limit: "1000" }, signal);
  }

  schema(name: string, version: number, signal?: AbortSignal): Promise<SchemaDocument> {
    return this.get<SchemaDocument>(`/schemas/${encodeURIComponent(name)}`, { version: String(version) }, signal);
  }

  /** PATCH a merge patch of ENV's layer of SERVICE: a change request (202), never a commit. */
  async patchConfig(service: string, env: string, patch: unknown, etag: string, title?: string): Promise<ChangeRequest> {
    const headers: Record<string, string> = { "Content-Type": "application/merge-patch+json", "If-Match": etag };
    if (title) headers["X-Cfgctl-Title"] = title;
    const path = `/config/${encodeURIComponent(service)}/${encodeURIComponent(env)}`;
    return (await this.send<ChangeRequest>("PATCH", path, { body: patch, headers })).body;
  }

  /** PUT a secret's new value: a change request of its encrypted layer (202). */
  async putSecret(service: string, env: string, key: string, value: unknown): Promise<ChangeRequest> {
    const path = `/secrets/${[service, env, key].map(encodeURIComponent).join("/")}`;
    return (await this.send<ChangeRequest>("PUT", path, { body: { value } })).body;
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

export interface SendOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

export interface Answer<T> {
  body: T;
  headers: Headers;
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
