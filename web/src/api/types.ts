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
  state: "open" | "merged" | "rejected";
  plan: { impact: ImpactEntry[]; risk: string[]; files: string[] } | null;
  verdict: { state: string; description: string } | null;
}

/** One diagnostic of a check-failed problem (cfgctl validate --format json's). */
export interface Diagnostic {
  severity: "error" | "warning";
  code: string;
  message: string;
  path: string | null;
  pointer?: string | null;
  hint: string | null;
  pairs: { service: string; env: string }[];
}
