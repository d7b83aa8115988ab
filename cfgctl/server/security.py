"""Who is asking, and may they: the one seam between the API and access control.

    subject = await current_subject(request)                 # a FastAPI dependency
    authorize(request, subject, "reveal", "config:payments@prod")   # Problem 403 when not

Every route takes its `Subject` from `current_subject` and asks `authorize` before it answers;
neither knows how subjects are authenticated or decided on. That is the `Security` of the app
(`app.state.security`), three parts each replaceable on its own:

- an `Authenticator` turns a request into a `Subject` or refuses it (401): today only
  `Anonymous`; API tokens and OIDC bearer tokens plug in here;
- an `AccessPolicy` says whether a subject may do an action on an object: today
  `LocalReads` (reads for anyone, nothing else); the Casbin policy of rbac.yaml plugs in here;
- an `AuditSink` records every denial and every allowed sensitive action (a reveal): today
  `NoAudit`; the hash-chained audit log plugs in here. A sensitive action whose record cannot be
  written is refused (Vault's rule), so a reveal is never unaudited.

Actions: `read` (any GET), `reveal` (secret values in clear), `report` (an agent's report).
Objects: `config:SERVICE@ENV` (`config:*@*` for the reports that span every pair: diff,
validate, plan), `services`, `environments`, `schemas`, `templates`, `agents`. Reveal is denied
unless a policy grants it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from fastapi import Request

from cfgctl.errors import InputError
from cfgctl.server.problems import Problem
from cfgctl.server.settings import ServerSettings

__all__ = [
    "SENSITIVE",
    "AccessPolicy",
    "Anonymous",
    "AuditSink",
    "Authenticator",
    "Decision",
    "LocalReads",
    "NoAudit",
    "Security",
    "Subject",
    "authorize",
    "current_subject",
]

log = logging.getLogger("cfgctl.server")
SENSITIVE = frozenset({"reveal"})  # allowed only with an audit record written first


@dataclass(frozen=True)
class Subject:
    """Who a request speaks for."""

    name: str  # "anonymous", a token's id, an OIDC subject
    anonymous: bool = False
    roles: tuple[str, ...] = ()
    via: str = "none"  # how it was authenticated: none, token, oidc


@dataclass(frozen=True)
class Decision:
    """One access decision, as the audit log records it (never a value)."""

    subject: Subject
    action: str
    object: str
    allowed: bool
    path: str
    time: datetime = field(default_factory=lambda: datetime.now(UTC))


class Authenticator(Protocol):
    def __call__(self, request: Request) -> Awaitable[Subject]:
        """The request's subject; `Problem("unauthenticated", ...)` when it proves none."""
        ...


class AccessPolicy(Protocol):
    def allows(self, subject: Subject, action: str, obj: str) -> bool: ...


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
    """Reads for anyone, and agents' reports (`report` on `agents`: an insecure-local server
    listens on loopback only, so they come from this machine); reveal and everything else for
    no one."""

    def allows(self, subject: Subject, action: str, obj: str) -> bool:
        return action == "read" or (action == "report" and obj == "agents")


class NoAudit:
    """Nothing recorded: only with a policy that allows nothing sensitive (`LocalReads`)."""

    def record(self, decision: Decision) -> None:
        return None


@dataclass(frozen=True)
class Security:
    authenticator: Authenticator
    policy: AccessPolicy
    audit: AuditSink

    @classmethod
    def for_settings(cls, settings: ServerSettings) -> Security:
        """What `settings` configure: today anonymous reads under `--insecure-local`, and a
        refusal to start otherwise (no way to authenticate yet means no server)."""
        if not settings.insecure_local:
            raise InputError(
                "no authentication is configured for the server",
                hint="pass --insecure-local to serve anonymous, read-only requests on a "
                "loopback address (secrets stay masked)",
            )
        return cls(Anonymous(), LocalReads(), NoAudit())

    def decide(self, subject: Subject, action: str, obj: str, path: str) -> None:
        """Return when `subject` may do `action` on `obj`; raise a 403 Problem otherwise, or a
        503 one when a sensitive action cannot be audited."""
        allowed = self.policy.allows(subject, action, obj)
        decision = Decision(subject, action, obj, allowed, path)
        if not allowed or action in SENSITIVE:
            try:
                self.audit.record(decision)
            except Exception as exc:  # noqa: BLE001  any failure to audit refuses the action
                log.error("audit record failed: %s", type(exc).__name__)
                if allowed:
                    raise Problem(
                        "environment",
                        f"the audit log cannot be written; {action} is refused",
                        hint="check the audit log's disk and permissions",
                    ) from None
        if not allowed:
            who = "an anonymous request" if subject.anonymous else f"{subject.name!r}"
            raise Problem(
                "forbidden",
                f"{who} may not {action} {obj}",
                hint=_hint(action),
                extra={"action": action, "object": obj},
            )


def _hint(action: str) -> str:
    if action == "reveal":
        return "drop reveal=true to read with secrets masked; revealing needs a permission"
    return "ask an administrator for a role that allows it"


async def current_subject(request: Request) -> Subject:
    """The FastAPI dependency every route takes its subject from."""
    security: Security = request.app.state.security
    return await security.authenticator(request)


def authorize(request: Request, subject: Subject, action: str, obj: str) -> None:
    """Ask the app's Security whether `subject` may do `action` on `obj` (see the module)."""
    security: Security = request.app.state.security
    security.decide(subject, action, obj, request.url.path)
