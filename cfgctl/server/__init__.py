"""The configuration server: API v1 over the snapshots of one repository (docs/api.md).

    app = create_app(ServerSettings(repo=Path("cfg"), insecure_local=True))

Modules: app (the FastAPI application), settings, security (who asks, and may they: the seam of
tokens, RBAC and audit), access (what plugs into the seam without --insecure-local: API tokens,
rbac.yaml of the branch head, the audit log), authz (GET /authz/check), requestid
(X-Request-Id), problems (RFC 9457 errors), repository (the served branch, answers kept by
commit), rendering (the configuration's body), reads (lists, schemas) and configs (the
configuration route), configviews (what that route answers with, and its long poll,
framework-free), warmreads (the same answers, already computed, and their long polls, served in
front of the framework), longpoll (the head watcher and the waiting reads), pagination, etag,
models (the OpenAPI shapes), changes (writes as change requests: PATCH of a configuration,
/changes and their reviews and merge) and writes (their capped bodies, If-Match, and the desk
that opens change requests on the repository's thread), changeviews (a change request's
diff and checks, the commits of a pair with their change requests), reverts (a change request
that undoes one commit), newservices (POST /services: a new service from a template, as a
change request), compat (Spring Cloud Config), reports (the CLI's reports as JSON), rollouts
(agents' reports, rollouts), compare (environments or two commits side by side), promotions
("make prod like staging for these keys" as a change request) and analytics (a pair's metrics,
deliveries and verdicts, for the dashboard). Framework-independent: tokens
(API tokens: made once, shown once, stored as salted hashes in SQLite), oidc (OIDC bearer
tokens: JWTs verified against the issuer's published keys), rbac (who may do what on
which service@env: rbac.yaml, evaluated by Casbin), rbacfile (rbac.yaml's problems at file:line,
for cfgctl validate), rbacdiff (what a change to rbac.yaml grants, for pr plan), auditlog (the
hash-chained JSON-lines audit log and its verification), statedir (where the server keeps its
state). FastAPI is imported only when the app is asked for: a module of this package that needs
none (a token store, the audit log) does not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cfgctl.server.app import create_app
    from cfgctl.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from cfgctl.server.app import create_app

        return create_app
    if name == "ServerSettings":
        from cfgctl.server.settings import ServerSettings

        return ServerSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
