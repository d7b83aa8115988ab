// The shapes of the API's answers that the dashboard reads (see docs/api.md and the OpenAPI
// document at /api/v1/openapi.json). Add a page's types here.

export type Action = "read" | "reveal" | "edit" | "approve" | "merge" | "report" | "admin";

export interface Permission {
  action: Action;
  object: string; // SERVICE@ENV, *@* for everything
  allowed: boolean;
  reason: string | null;
}

export interface Whoami {
  subject: string;
  anonymous: boolean;
  via: "none" | "token" | "oidc";
  insecure_local: boolean;
  role: string | null;
  scopes: string[];
  expires: string | null;
  permissions: Permission[];
}

export interface OverviewService {
  name: string;
  owners: string[];
  // one per environment, in the order of Overview.environments; null: the caller may not read it
  errors: (number | null)[];
  warnings: (number | null)[];
}

export interface OverviewChange {
  id: number;
  title: string;
  author: string;
  pairs: string[]; // SERVICE@ENV
}

export interface OverviewAgents {
  service: string;
  env: string;
  commit: string | null;
  targets: number;
  stuck: number;
  stale: number;
}

export interface OverviewProblem {
  severity: "error" | "warning";
  message: string;
  file: string | null;
  line: number | null;
  hint: string | null;
}

export interface Overview {
  commit: string;
  environments: string[];
  ok: boolean;
  errors: number;
  warnings: number;
  problems: OverviewProblem[];
  services: OverviewService[];
  changes: OverviewChange[];
  agents: OverviewAgents[];
}

export interface Status {
  version: string;
  branch: string;
  head: string | null;
  waiting: number;
}

// The Compare page: GET /compare and POST /promotions (docs/api.md).
export interface CompareSide {
  env: string;
  rev: string | null; // as asked; null: the branch head
  commit: string;
}

export interface CompareCell {
  present: boolean;
  value?: unknown; // "***" for a secret
  env?: string; // the layer that sets it: its environment, kind, file and position
  layer?: "defaults" | "service" | "secrets";
  file?: string;
  line?: number | null;
  column?: number | null;
}

export type CompareStatus = "same" | "differs" | "secret";

export interface CompareRow {
  key: string;
  path: (string | number)[];
  status: CompareStatus;
  secret: boolean;
  cells: CompareCell[]; // one per side
}

export interface CompareService {
  name: string;
  errors: (string | null)[]; // one per side: why it cannot be rendered
  differences: number;
  keys: number;
  rows: CompareRow[];
}

export interface CompareDocument {
  sides: CompareSide[];
  items: CompareService[];
  next_cursor: string | null;
}

export interface PromotionKey {
  service: string;
  key: string;
}

export interface PromotionRequest {
  from: string;
  to: string;
  keys: PromotionKey[];
  commit?: string;
  title?: string;
}

export interface PromotionAnswer {
  id: number;
  title: string;
  state: string;
  promotion: {
    from: string;
    to: string;
    moves: { service: string; key: string; action: "set" | "unset"; file: string; secret: boolean }[];
    skipped: { service: string; key: string; reason: string; detail: string }[];
  };
}

export interface NamedPage<T> {
  items: T[];
  next_cursor: string | null;
}

export interface EnvironmentItem {
  name: string;
  inherits: string | null;
  protected: boolean;
  abstract: boolean;
}
