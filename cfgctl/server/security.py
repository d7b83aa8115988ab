"""Who is asking, and may they: the one seam between the API and access control.

    subject = await current_subject(request)                 # a FastAPI dependency
    authorize(request, subject, "reveal", "config:payments@prod")   # Problem 403 when not

Every route takes its `Subject` from `current_subject` and asks `authorize` before it answers;
neither knows how subjects are authenticated or decided on. That is the `Security` of the app
(`app.state.security`, chosen by `access.security_for(settings)` unless `create_app` is given
one), three parts each replaceable on its own:

- an `Authenticator` turns a request into a `Subject` or refuses it (401, `Unauthenticated`):
  `Anonymous` under `--insecure-local`, else API tokens and, with `--oidc-issuer`, OIDC
  bearer tokens (`access.TokenAuthenticator`); a 503 `AuthenticationUnavailable` when it
  cannot decide (the OIDC issuer unreachable);
- an `AccessPolicy` says whether a subject may do an action on an object, as a bool or a
  `rbac.Decision` with its reason: `LocalReads` (reads and agents' reports for anyone,
  nothing else) under `--insecure-local`, else the Casbin policy of rbac.yaml
  (`access.RbacPolicy`);
- an `AuditSink` records every refused authentication, every denial and every allowed
  sensitive action (a reveal): `NoAudit` under `--insecure-local`, else the hash-chained audit
  log (`access.AuditLogSink`). A sensitive action whose record cannot be written is refused
  (Vault's rule), so a reveal is never unaudited.

An optional `prepare(request)` runs after authentication and before the route (the RBAC policy
loads the rules of the branch head there, off the event loop).

Actions: `read` (any GET), `reveal` (secret values in clear), `report` (an agent's report),
`admin` (`/authz/check`). Objects: `config:SERVICE@ENV` (`config:*@*` for the reports that
span every pair: diff, validate, plan; `config:SERVICE@ENV1,ENV2` for a Spring profile list),
`services`, `environments`, `schemas`, `templates`, `status`, `agents`, and `server` (the
server itself). Reveal is denied unless a policy grants it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from fastapi import Request

from cfgctl.server.problems import Problem

if TYPE_CHECKING:
    from cfgctl.server.rbac import Decision as Ruling
    from cfgctl.server.tokens import TokenInfo

__all__ = [
    "SENSITIVE",
    "AccessPolicy",
    "Anonymous",
    "AuditSink",
    "AuthenticationUnavailable",
    "Authenticator",
    "Decision",
    "LocalReads",
    "NoAudit",
    "Security",
    "Subject",
    "Unauthenticated",
    "authorize",
    "current_subject",
    "request_id",
]

log = logging.getLogger("cfgctl.server")
# Allowed only with an audit record written first (Vault's rule): a reveal, and every write
# (opening, reviewing and merging a change request).
SENSITIVE = frozenset({"reveal", "edit", "approve", "merge"})


@dataclass(frozen=True)
class Subject:
    """Who a request speaks for."""

    name: str  # "anonymous", a token's subject, oidc:SUBJECT of an OIDC login
    anonymous: bool = False
    roles: tuple[str, ...] = ()
    via: str = "none"  # how it was authenticated: none, token, oidc
    token: TokenInfo | None = None  # the API token it came with: its role and scopes cap it
    groups: tuple[str, ...] = ()  # the groups an OIDC login brings (rbac.yaml's group:NAME)


@dataclass(frozen=True)
class Decision:
    """One access decision, as the audit log records it (never a value)."""

    subject: Subject
    action: str
    object: str
    allowed: bool
    path: str
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    reason: str | None = None  # the policy's, when it gives one
    matched_rule: str | None = None  # rbac.yaml:LINE of the grant that allowed it
    request_id: str | None = None
    commit: str | None = None  # the branch head the decision was made at
    token_id: str | None = None  # the token a refused authentication claimed


class Unauthenticated(Problem):
    """A 401: the request proves no subject. `reason` (missing, malformed, unknown, forged,
    expired, revoked; for a JWT also wrong-issuer, wrong-audience, not-yet-valid, algorithm,
    unknown-key, missing-claim, bad-subject) is answered and audited; `token_id` names the API
    token it claimed, if any; `via` is how it tried (token, oidc; none without a bearer)."""

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        hint: str | None,
        token_id: str | None = None,
        via: str = "none",
    ) -> None:
        challenge = 'Bearer realm="cfgctl"'
        if reason != "missing":
            challenge += ', error="invalid_token"'  # RFC 6750
        super().__init__(
            "unauthenticated",
            detail,
            hint=hint,
            extra={"reason": reason},
            headers={"WWW-Authenticate": challenge},
        )
        self.reason, self.token_id, self.via = reason, token_id, via


class AuthenticationUnavailable(Problem):
    """A 503: whether the request proves a subject cannot be decided now (the OIDC issuer's
    keys cannot be fetched); audited as a refusal with its `reason`."""

    def __init__(self, reason: str, detail: str, *, hint: str | None, via: str) -> None:
        super().__init__("environment", detail, hint=hint, extra={"reason": reason})
        self.reason, self.via = reason, via
        self.token_id: str | None = None


class Authenticator(Protocol):
    def __call__(self, request: Request) -> Awaitable[Subject]:
        """The request's subject; `Problem("unauthenticated", ...)` when it proves none."""
        ...


class AccessPolicy(Protocol):
    def allows(self, subject: Subject, action: str, obj: str) -> bool | Ruling:
        """Whether `subject` may; a `rbac.Decision` says why. May raise a `Problem` (503) when
        it cannot decide: the request is then refused, and audited as denied."""
        ...


class AuditSink(Protocol):
    def record(self, decision: Decision) -> None:
        """Write one record; raise `OSError` (or a `CfgctlError`) when it cannot be written."""
        ...


class Anonymous:
    """No authentication: every request is the anonymous subject (`--insecure-local` only)."""

    subject = Subject("anonymous", anonymous=True)

    async def __call__(self, request: Request) -> Subject:
        return self.subject


class LocalReads:
    """Reads for anyone, and agents' reports (an insecure-local server listens on loopback
    only, so they come from this machine); reveal and everything else for no one."""

    def allows(self, subject: Subject, action: str, obj: str) -> bool:
        return action in ("read", "report")


class NoAudit:
    """Nothing recorded: only with a policy that allows nothing sensitive (`LocalReads`)."""

    def record(self, decision: Decision) -> None:
        return None


@dataclass(frozen=True)
class Security:
    authenticator: Authenticator
    policy: AccessPolicy
    audit: AuditSink
    prepare: Callable[[Request], Awaitable[None]] | None = None

    def decide(
        self,
        subject: Subject,
        action: str,
        obj: str,
        path: str,
        *,
        request_id: str | None = None,
        commit: str | None = None,
    ) -> None:
        """Return when `subject` may do `action` on `obj`; raise a 403 Problem otherwise, or a
        503 one when a sensitive action cannot be audited (or the policy cannot decide)."""
        unable: Problem | None = None
        try:
            verdict = self.policy.allows(subject, action, obj)
        except Problem as problem:
            unable, verdict = problem, False
        allowed = verdict if isinstance(verdict, bool) else verdict.allowed
        reason = unable.detail if unable else None if isinstance(verdict, bool) else verdict.reason
        rule = None if isinstance(verdict, bool) else verdict.matched_rule
        decision = Decision(
            subject, action, obj, allowed, path, reason=reason, matched_rule=rule,
            request_id=request_id, commit=commit,
        )  # fmt: skip
        if not allowed or action in SENSITIVE:
            self._record(decision)
        if unable is not None:
            raise unable
        if not allowed:
            who = "an anonymous request" if subject.anonymous else f"{subject.name!r}"
            extra = {"action": action, "object": obj}
            raise Problem(
                "forbidden",
                f"{who} may not {action} {obj}" + (f": {reason}" if reason else ""),
                hint=_hint(action),
                extra={**extra, "reason": reason} if reason else extra,
            )

    def permits(self, subject: Subject, action: str, obj: str) -> bool:
        """Whether the policy allows `subject` a non-sensitive `action` on `obj`, recording
        nothing: for a fast path that leaves every refusal to `decide` (warmreads.py)."""
        if action in SENSITIVE:
            raise ValueError(f"{action} is audited: ask decide()")
        verdict = self.policy.allows(subject, action, obj)
        return verdict if isinstance(verdict, bool) else verdict.allowed

    def refused(self, decision: Decision) -> None:
        """Audit a refusal decided outside the policy (a webhook's bad signature); a record
        that cannot be written is logged, the refusal stands."""
        self._record(replace(decision, allowed=False))

    def _record(self, decision: Decision) -> None:
        """Audit `decision`; when that fails, refuse it if it was allowed (a denial stays one)."""
        try:
            self.audit.record(decision)
        except Exception as exc:  # noqa: BLE001  any failure to audit refuses the action
            log.error("audit record failed: %s", type(exc).__name__)
            if decision.allowed:
                raise Problem(
                    "environment",
                    f"the audit log cannot be written; {decision.action} is refused",
                    hint="check the audit log's disk and permissions",
                ) from None


def _hint(action: str) -> str:
    if action == "reveal":
        return "drop reveal=true to read with secrets masked; revealing needs a permission"
    return "ask an administrator for a role that allows it"


def request_id(request: Request) -> str | None:
    """The id the request-id middleware gave this request (None outside of it)."""
    return getattr(request.state, "request_id", None)


async def current_subject(request: Request) -> Subject:
    """The FastAPI dependency every route takes its subject from; a refused authentication is
    audited before its 401 (or 503)."""
    security: Security = request.app.state.security
    try:
        subject = await security.authenticator(request)
    except (Unauthenticated, AuthenticationUnavailable) as refused:
        claimed = Subject("anonymous", anonymous=True, via=refused.via)
        security._record(
            Decision(
                claimed, "authenticate", request.url.path, False, request.url.path,
                reason=refused.reason, request_id=request_id(request),
                token_id=refused.token_id,
            )
        )  # fmt: skip
        raise
    if security.prepare is not None:
        await security.prepare(request)
    return subject


def authorize(request: Request, subject: Subject, action: str, obj: str) -> None:
    """Ask the app's Security whether `subject` may do `action` on `obj` (see the module)."""
    security: Security = request.app.state.security
    watcher = getattr(request.app.state, "watcher", None)
    security.decide(
        subject,
        action,
        obj,
        request.url.path,
        request_id=request_id(request),
        commit=None if watcher is None else watcher.head,
    )
