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

// Change requests (docs/api.md, "Writes become change requests") and what their pages read.
export type ChangeState = "open" | "merged" | "rejected";

export interface ChangeReview {
  user: string;
  state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED";
  commit: string;
  time: string;
}

export interface PlanRule {
  name: string;
  applies: boolean;
  why?: string;
  description?: string | null;
  require?: Record<string, unknown>;
}

export interface ChangePlan {
  base: string;
  head: string;
  impact: { service: string; env: string; status: string; keys: string[]; secret_keys?: string[] }[];
  files: string[];
  rules: PlanRule[];
  risk: string[];
  freezes: string[];
  policy: string | null;
  permissions_added: string[];
}

export interface Requirement {
  rule: string;
  require: string;
  needed: number;
  approvers: string[];
  met: boolean;
}

export interface ChangeVerdict {
  state: "success" | "pending" | "failure";
  description: string;
  emergency: boolean;
  requirements: Requirement[];
  changes_requested: string[];
  stale_approvals: string[];
  freezes: string[];
}

export interface ProvenanceEntry {
  key: string; // dotted
  path: (string | number)[];
  env: string;
  layer: "defaults" | "service" | "secrets";
  file: string;
  line: number | null;
  column: number | null;
  commit: string | null;
  author: string | null;
  date: string | null;
}

export interface ConfigDocument {
  service: string;
  env: string;
  schema: string; // NAME@VERSION
  config: Record<string, unknown>;
  errors?: Diagnostic[]; // with invalid=true: the configuration fails its schema
  provenance?: ProvenanceEntry[];
}

export interface SchemaListItem {
  name: string;
  versions: number[];
  latest: number;
  files: string[]; // one per version, in the order of versions
}

export interface SchemaList {
  items: SchemaListItem[];
  next_cursor: string | null;
}

export interface SchemaDocument {
  name: string;
  version: number;
  file: string;
  schema: Record<string, unknown>;
}

export interface ImpactEntry {
  service: string;
  env: string;
  status: string; // changed, added, removed...
  keys: string[];
}

export interface ChangeRequest {
  id: number;
  title: string;
  author: string;
  base: string;
  head: string;
  opened: string;
  state: ChangeState;
  reviews: ChangeReview[];
  merged: string | null;
  closed_by: string | null;
  plan?: ChangePlan | null; // absent in lists, null once closed
  verdict?: ChangeVerdict | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
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

export interface KeyChange {
  path: string;
  kind: "added" | "removed" | "changed";
  old: unknown;
  new: unknown;
  secret?: boolean;
  type_change?: boolean;
}

export interface PairDiff {
  service: string;
  env: string;
  status: "added" | "removed" | "changed";
  changes: KeyChange[];
  schema?: { old: string | null; new: string | null };
}

export interface Diagnostic {
  severity: "error" | "warning";
  code: string;
  file?: string | null;
  line?: number | null;
  column?: number | null;
  path: string | null;
  pointer?: string | null; // RFC 6901, of the value it concerns
  message: string;
  hint: string | null;
  pairs: { service: string; env: string }[];
}

export interface ChangeImpact {
  id: number;
  base: string;
  head: string;
  edits: string[]; // SERVICE@ENV whose layer files it edits: what reviews and merges are asked on
  pairs: PairDiff[];
  hidden: number;
  checks: { ok: boolean; errors: number; warnings: number; diagnostics: Diagnostic[] };
}

export interface RolloutTarget {
  agent: string;
  target: string;
  service: string;
  env: string;
  wave: string | null;
  commit: string | null;
  state: string;
  status: string; // reached, pending, or why it is stuck (failed, rolled-back, canary-...)
  why: string | null;
  last_report: string;
  stale: boolean;
}

export interface Rollout {
  commit: string;
  total: number;
  reached: number;
  stuck: number;
  pending: number;
  stale: number;
  targets: RolloutTarget[];
}

export interface PairCommit {
  commit: string;
  parents: string[];
  author: string;
  email: string;
  date: string;
  subject: string;
  changes: KeyChange[];
  change_request: { id: number; title: string; author: string } | null;
}

export interface PairCommits {
  service: string;
  env: string;
  key: string | null;
  head: string;
  commits: PairCommit[];
}

export interface Named {
  name: string;
}

export interface EnvironmentItem {
  name: string;
  inherits: string | null;
  protected: boolean;
  abstract: boolean;
}
