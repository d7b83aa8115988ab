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
