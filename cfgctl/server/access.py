"""The server's real security: API tokens, the rules of rbac.yaml, the hash-chained audit log.

    security = security_for(settings)       # what create_app serves with

- `TokenAuthenticator`: `Authorization: Bearer cfgctl_<id>_<secret>` checked against
  STATE_DIR/tokens.db; a refusal is a 401 naming why (missing, malformed, unknown, forged,
  expired, revoked), never repeating the token. With `--oidc-issuer`, any other bearer is a JWT
  for `oidc.OidcVerifier`: the login `oidc:SUBJECT` with the groups its token names; a refusal
  is a 401 naming why (expired, forged, wrong-issuer, ...), an issuer whose keys cannot be had
  a 503.
- `RbacPolicy`: rbac.yaml of the served branch's head (`AuthorizerCache`, loaded on the
  repository's thread when the head moves), each decision capped by the token's role and
  scopes (`Principal.of_token`). `config:SERVICE@ENV` is decided on SERVICE@ENV (see
  `_rbac_requests` for `config:*@*`, profile lists and agents' reports); a list (`services`,
  `environments`, `schemas`, `templates`, `status`, `agents`) needs `read` on at least one
  configuration of the head; `server` is the server itself (`*@*`: `admin`). A broken
  rbac.yaml denies everything with a 503 naming its problem.
- `AuditLogSink`: one line of STATE_DIR/audit.jsonl per decision offered (refused logins,
  denials, reveals), never a value or a token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from cfgctl.errors import CfgctlError, InputError
from cfgctl.server.auditlog import AUDIT_FILE, AuditLog
from cfgctl.server.problems import Problem
from cfgctl.server.rbac import SERVER, Authorizer, AuthorizerCache, Principal
from cfgctl.server.rbac import Decision as Ruling
from cfgctl.server.security import (
    Anonymous,
    AuthenticationUnavailable,
    Decision,
    LocalReads,
    NoAudit,
    Security,
    Subject,
    Unauthenticated,
)
from cfgctl.server.statedir import state_dir
from cfgctl.server.tokens import PREFIX, TokenRefused, TokenStore

if TYPE_CHECKING:
    from cfgctl.server.oidc import OidcVerifier
    from cfgctl.server.repository import ServedRepo
    from cfgctl.server.settings import ServerSettings

__all__ = [
    "LISTS",
    "AuditLogSink",
    "RbacPolicy",
    "Rules",
    "TokenAuthenticator",
    "oidc_verifier",
    "security_for",
    "token_security",
]

# `changes`: the list of change requests, each shown only to who may read what it edits.
LISTS = frozenset(
    {"services", "environments", "schemas", "templates", "status", "agents", "changes"}
)
_CONFIG = "config:"


def security_for(settings: ServerSettings) -> Security:
    """What `settings` configure: anonymous reads under `--insecure-local`; else API tokens of
    the state directory, rbac.yaml of the branch head and the audit log there."""
    if settings.insecure_local:
        return Security(Anonymous(), LocalReads(), NoAudit())
    return token_security(settings)


def token_security(settings: ServerSettings) -> Security:
    """Tokens, rbac.yaml and the audit log of `settings.state_dir` (made when missing); OIDC
    logins too when `settings.oidc_issuer` is set."""
    folder = state_dir(settings.state_dir)
    store = TokenStore.open(folder)
    policy = RbacPolicy()
    sink = AuditLogSink(AuditLog(folder / AUDIT_FILE))
    authenticator = TokenAuthenticator(store, oidc_verifier(settings))
    return Security(authenticator, policy, sink, prepare=policy.refresh)


def oidc_verifier(settings: ServerSettings) -> OidcVerifier | None:
    """The OIDC verifier `settings` configure; None without `--oidc-issuer`."""
    if settings.oidc_issuer is None or settings.oidc_audience is None:
        return None
    from cfgctl.server.oidc import OidcConfig, OidcVerifier

    return OidcVerifier(
        OidcConfig(
            settings.oidc_issuer,
            settings.oidc_audience,
            subject_claim=settings.oidc_subject_claim,
            groups_claim=settings.oidc_groups_claim,
            leeway=settings.oidc_leeway,
            timeout=settings.oidc_timeout,
            refetch_interval=settings.oidc_refetch_interval,
            keys_max_age=settings.oidc_keys_max_age,
        )
    )


class TokenAuthenticator:
    """The subject of a request's bearer token: an API token (`cfgctl_...`), or, when `oidc` is
    given, any other bearer as a JWT of the OIDC issuer. A 401 `Unauthenticated` when it has no
    valid one; a 503 `AuthenticationUnavailable` when the issuer's keys cannot be had."""

    def __init__(self, store: TokenStore, oidc: OidcVerifier | None = None) -> None:
        self.store, self.oidc = store, oidc

    async def __call__(self, request: Request) -> Subject:
        header = request.headers.get("authorization")
        scheme, _, bearer = (header or "").strip().partition(" ")
        bearer = bearer.strip()
        oidc = self.oidc
        jwt_like = scheme.lower() == "bearer" and bool(bearer) and not bearer.startswith(PREFIX)
        if oidc is not None and jwt_like:
            return await self._login(oidc, bearer)
        try:
            info = self.store.verify_header(header)
        except TokenRefused as refused:
            via = "none" if refused.reason == "missing" else "token"
            raise Unauthenticated(
                refused.reason,
                refused.message,
                hint=refused.hint,
                token_id=refused.token_id,
                via=via,
            ) from None
        return Subject(info.subject, roles=(info.role,), via="token", token=info)

    async def _login(self, oidc: OidcVerifier, bearer: str) -> Subject:
        from cfgctl.server.oidc import IssuerUnavailable, OidcRefused

        try:
            login = await oidc.verify(bearer)
        except OidcRefused as refused:
            raise Unauthenticated(
                refused.reason, refused.message, hint=refused.hint, via="oidc"
            ) from None
        except IssuerUnavailable as unavailable:
            raise AuthenticationUnavailable(
                "issuer-unavailable", unavailable.message, hint=unavailable.hint, via="oidc"
            ) from None
        return Subject(login.subject, via="oidc", groups=login.groups)


@dataclass(frozen=True)
class Rules:
    """The access rules of one commit of the served branch."""

    commit: str
    authorizer: Authorizer
    error: InputError | None = None  # rbac.yaml is broken: everything is denied
    objects: tuple[str, ...] = ()  # every SERVICE@ENV of the manifest, for the lists

    @classmethod
    def load(cls, served: ServedRepo, cache: AuthorizerCache, commit: str) -> Rules:
        """rbac.yaml at `commit` (on the repository's thread)."""
        snap = served.snapshot(commit)
        authorizer = cache.of(snap)
        error = cache.error
        try:
            manifest = snap.manifest
            pairs = tuple(f"{s}@{e}" for s in manifest.services for e in manifest.environments)
        except CfgctlError:
            pairs = ()  # a broken manifest: no list is readable (the rules say why)
        return cls(commit, authorizer, error, pairs)


@dataclass
class RbacPolicy:
    """rbac.yaml of the served branch's head; see the module docstring."""

    cache: AuthorizerCache = field(default_factory=AuthorizerCache)
    rules: Rules | None = None
    # (principal, commit) -> the list decision: a list asks about many objects
    _lists: dict[tuple[Principal, str], Ruling] = field(default_factory=dict)

    async def refresh(self, request: Request) -> None:
        """The rules of the head the watcher last saw, loaded when it moved."""
        head: str = request.app.state.watcher.head
        if self.rules is not None and self.rules.commit == head:
            return
        served: ServedRepo = request.app.state.served
        rules = await served.once(
            (head, "rbac-rules"), lambda: Rules.load(served, self.cache, head)
        )
        if self.rules is None or rules.commit == request.app.state.watcher.head:
            self.rules = rules
            self._lists.clear()

    def allows(self, subject: Subject, action: str, obj: str) -> Ruling:
        rules = self.rules
        if rules is None:
            raise Problem("environment", "the access rules are not loaded yet", hint="retry")
        if rules.error is not None:
            error = rules.error
            raise Problem(
                "environment",
                f"the access rules cannot be read, so nothing is allowed: {error.message}",
                location=error.location,
                hint=f"fix {error.location or 'rbac.yaml'} on the served branch"
                + (f" ({error.hint})" if error.hint else ""),
            )
        if subject.anonymous:
            return Ruling(False, "an anonymous request is allowed nothing")
        principal = _principal(subject)
        if obj in LISTS and action == "read":
            return self._list_ruling(rules, principal)
        asked = _rbac_requests(action, obj)
        if not asked:
            return Ruling(False, f"no rule covers {action} on {obj}")
        ruling = Ruling(False, "nothing asked")
        for rbac_action, rbac_obj in asked:  # every one must be allowed
            try:
                ruling = rules.authorizer.enforce(principal, rbac_action, rbac_obj)
            except InputError as exc:  # a name no grant can match, an action rbac.yaml lacks
                return Ruling(False, exc.message)
            if not ruling.allowed:
                return ruling
        return ruling

    def is_member(self, team: str, user: str) -> bool:
        """Whether `user` is in the policy.yaml team `team` (`@acme/sre`): rbac.yaml's group of
        that name, in the rules of the head last loaded. Change requests are judged with it."""
        rules = self.rules
        return rules is not None and rules.error is None and rules.authorizer.is_member(team, user)

    def _list_ruling(self, rules: Rules, principal: Principal) -> Ruling:
        """`read` on a list: allowed when the principal may read one configuration."""
        key = (principal, rules.commit)
        known = self._lists.get(key)
        if known is not None:
            return known
        ruling = Ruling(False, f"{principal.subject} may read no configuration of the branch")
        for obj in rules.objects:
            decision = rules.authorizer.enforce(principal, "read", obj)
            if decision.allowed:
                ruling = Ruling(True, f"may read {obj}: {decision.reason}", decision.matched_rule)
                break
        if len(self._lists) >= 4096:
            self._lists.clear()
        self._lists[key] = ruling
        return ruling


def _rbac_requests(action: str, obj: str) -> list[tuple[str, str]]:
    """The (action, SERVICE@ENV) rbac.yaml is asked for a seam's (action, object): all must be
    allowed. `config:S@E1,E2` (a Spring profile list) asks for each environment; `config:*@*`
    (a report over every pair) and `server` ask for `*@*`, which only a grant on `*` or `*@*`
    covers; an agent's `report` with no target asks for `report` on `*@*` (each target it
    reports is asked for as `report` on `config:SERVICE@ENV`)."""
    if obj.startswith(_CONFIG):
        service, _, envs = obj.removeprefix(_CONFIG).partition("@")
        return [(action, f"{service}@{env}") for env in envs.split(",")]
    if obj == "server":
        return [(action, SERVER)]
    if obj == "agents" and action == "report":
        return [("report", SERVER)]
    return []


def _principal(subject: Subject) -> Principal:
    if subject.token is not None:
        return Principal.of_token(subject.token)
    return Principal(subject.name, subject.groups)


class AuditLogSink:
    """Decisions as lines of the hash-chained audit log (auditlog.py)."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    def record(self, decision: Decision) -> None:
        subject = decision.subject
        detail: dict[str, object] = {"path": decision.path, "via": subject.via}
        if decision.reason is not None:
            detail["reason"] = decision.reason
        if decision.matched_rule is not None:
            detail["matched_rule"] = decision.matched_rule
        token_id = subject.token.id if subject.token is not None else decision.token_id
        if token_id is not None:
            detail["token_id"] = token_id
        self.log.append(
            subject.name,
            decision.action,
            decision.object,
            "allowed" if decision.allowed else "denied",
            request_id=decision.request_id,
            commit=decision.commit,
            detail=detail,
        )
