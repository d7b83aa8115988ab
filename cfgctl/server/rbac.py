"""Who may do what on which service@env: rbac.yaml at the repository root, evaluated by Casbin.

    authz = Authorizer.from_snapshot(snap)          # InputError at rbac.yaml:LINE when wrong
    authz.enforce("alice", "edit", "payments@staging")       # Decision(allowed, reason, rule)
    authz.enforce(token.principal, "edit", "payments@prod")  # a token's role and scopes narrow
    authz.may_approve("carol", change_author="alice", obj="payments@prod")

    version: 1
    groups:
      payments-team: [alice, bob]
    grants:
      - subjects: [group:payments-team, ci-bot]
        role: editor                      # viewer | editor | approver | admin
        scope: [payments@staging, "payments@dev*"]
      - subjects: [carol]
        role: approver
        scope: ["*@prod*"]
      - subjects: [dave]
        actions: [reveal]                 # single actions instead of a role
        scope: [payments@staging]

Objects are `SERVICE@ENV`, and `*@*` for the server itself (tokens, the audit log); scopes are
globs of them, `*` being everything. Nothing is allowed that no grant allows. Edit and approve
are separate rights (no role but admin has both), and nobody approves their own change, admin
included.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfgctl.errors import InputError, Location
from cfgctl.repo.builtin import check_own_file
from cfgctl.repo.manifest import suggest
from cfgctl.repo.yamlio import Document, parse
from cfgctl.server.rbacfile import RBAC, lint_rbac, raise_first, unknown_names

if TYPE_CHECKING:
    from cfgctl.repo.snapshot import Snapshot
    from cfgctl.server.tokens import TokenInfo

__all__ = [
    "ACTIONS",
    "RBAC",
    "ROLE_ACTIONS",
    "SERVER",
    "Authorizer",
    "AuthorizerCache",
    "Decision",
    "Grant",
    "Permission",
    "Principal",
    "glob_match",
    "rbac_of",
]

ACTIONS = ("read", "reveal", "edit", "approve", "merge", "report", "admin")
ROLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "viewer": ("read",),
    "agent": ("read", "report"),
    "editor": ("read", "edit"),
    "approver": ("read", "approve", "merge"),
    "admin": ACTIONS,
}
SERVER = "*@*"  # the object of server-wide actions: only a grant on * or *@* covers it

_OBJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*@[A-Za-z0-9][A-Za-z0-9._-]*")

# Casbin's RBAC model: a subject is allowed an action on an object when it (or a group it is
# in) holds a grant of that action on a glob matching the object. `rule` names the grant's
# place in rbac.yaml, for explanations.
_MODEL = """
[request_definition]
r = sub, act, obj

[policy_definition]
p = sub, act, obj, rule

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.act == p.act && globMatch(r.obj, p.obj)
"""


def glob_match(name: str, pattern: str) -> bool:
    """Casbin's globMatch (wcmatch: *, ?, [abc], {a,b}): the one glob of rbac.yaml, scopes and
    token scopes alike."""
    from casbin.util.builtin_operators import glob_match as casbin_glob

    return bool(casbin_glob(name, pattern))


@dataclass(frozen=True)
class Principal:
    """Who asks: a subject, the groups a login names, and for a token its ceiling: at most its
    role's actions, only on objects its scopes match."""

    subject: str
    groups: tuple[str, ...] = ()
    role: str | None = None
    scopes: tuple[str, ...] | None = None

    @classmethod
    def of_token(cls, token: TokenInfo) -> Principal:
        """The bearer of a verified API token: its subject, narrowed to its role and scopes."""
        return cls(token.subject, (), token.role, token.scopes)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    matched_rule: str | None = None  # rbac.yaml:LINE of the grant that allowed it

    def to_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "reason": self.reason, "matched_rule": self.matched_rule}


@dataclass(frozen=True)
class Grant:
    subjects: tuple[str, ...]
    actions: tuple[str, ...]
    scope: tuple[str, ...]
    origin: str  # rbac.yaml:LINE


@dataclass(frozen=True, order=True)
class Permission:
    subject: str
    action: str
    object: str  # a glob

    def __str__(self) -> str:
        return f"{self.subject} may {self.action} {self.object}"


@dataclass
class Authorizer:
    """The access rules of one rbac.yaml (an empty one allows nothing)."""

    grants: tuple[Grant, ...] = ()
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = RBAC
    _enforcer: Any = field(default=None, repr=False, compare=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    _index: dict[tuple[str, str], list[list[str]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def is_member(self, team: str, user: str) -> bool:
        """Whether `user` is in the policy.yaml team `team` (`@acme/sre` or `acme/sre`): the
        members of the group of that name. Change requests judged without a forge ask it."""
        return user in self.groups.get(team.removeprefix("@"), ())

    @classmethod
    def from_document(
        cls, doc: Document, known: tuple[set[str], set[str]] | None = None
    ) -> Authorizer:
        """The rules of a parsed rbac.yaml; `known` (services, environments) makes a scope that
        names an unknown one (no glob) an error too."""
        problems = check_own_file(doc, "rbac")
        if not problems and known is not None:
            problems = unknown_names(doc, *known)
        raise_first(problems)
        return cls._read(doc)

    @classmethod
    def _read(cls, doc: Document) -> Authorizer:
        data: dict[str, Any] = doc.data
        grants = tuple(
            Grant(
                tuple(g["subjects"]),
                tuple(ROLE_ACTIONS[g["role"]] if "role" in g else g["actions"]),
                tuple(g["scope"]),
                str(doc.location(("grants", i))),
            )
            for i, g in enumerate(data["grants"])
        )
        groups = {name: tuple(members) for name, members in (data.get("groups") or {}).items()}
        return cls(grants, groups, doc.source)

    @classmethod
    def from_text(cls, text: str | bytes, source: str = RBAC) -> Authorizer:
        return cls.from_document(parse(text.encode() if isinstance(text, str) else text, source))

    @classmethod
    def from_file(cls, path: Path) -> Authorizer:
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise InputError(
                f"cannot read the access rules: {exc.strerror}",
                location=Location(str(path)),
                hint=f"write {RBAC} at the repository root (see docs/security.md)",
            ) from None
        return cls.from_document(parse(text, str(path)))

    @classmethod
    def from_snapshot(cls, snap: Snapshot) -> Authorizer:
        """rbac.yaml of `snap`, its scopes checked against the manifest's services and
        environments; without one, an Authorizer that allows nothing."""
        found = rbac_of(snap)
        return found if found is not None else cls(source=f"{RBAC} (absent)")

    def _casbin(self) -> Any:
        if self._enforcer is None:
            import casbin

            enforcer = casbin.Enforcer(casbin.Enforcer.new_model(text=_MODEL))
            # In file order, so that the first grant that allows is the one explained.
            rules = list(
                dict.fromkeys(
                    (subject, action, obj, grant.origin)
                    for grant in self.grants
                    for subject in grant.subjects
                    for action in grant.actions
                    for obj in grant.scope
                )
            )
            if rules:
                enforcer.add_policies([list(rule) for rule in rules])
            for rule in rules:
                self._index.setdefault((rule[0], rule[1]), []).append(list(rule))
            links = {(m, f"group:{g}") for g, members in self.groups.items() for m in members}
            if links:
                enforcer.add_grouping_policies(sorted([list(link) for link in links]))
            self._enforcer = enforcer
        return self._enforcer

    def _enforce_one(self, identity: str, action: str, obj: str) -> tuple[bool, list[str]]:
        """Casbin's verdict for one identity, over the rules of that identity and action only:
        the idea of Casbin's FastEnforcer (a policy filtered by keys), keeping file order."""
        enforcer = self._casbin()
        assertion = enforcer.model["p"]["p"]
        with self._lock:  # the policy is swapped in place; Casbin's function map is shared
            everything = assertion.policy
            assertion.policy = self._index.get((identity, action), [])
            try:
                allowed, rule = enforcer.enforce_ex(identity, action, obj)
            finally:
                assertion.policy = everything
        return bool(allowed), list(rule)

    def enforce(self, who: str | Principal, action: str, obj: str) -> Decision:
        """May `who` do `action` on `obj` (SERVICE@ENV, or SERVER)? With the reason, and the
        grant that allows it."""
        principal = who if isinstance(who, Principal) else Principal(who)
        _check_request(action, obj)
        if principal.role is not None and action not in ROLE_ACTIONS.get(principal.role, ()):
            return Decision(False, f"the token's role {principal.role} does not include {action}")
        if principal.scopes is not None and not any(glob_match(obj, s) for s in principal.scopes):
            scopes = ", ".join(principal.scopes)
            return Decision(False, f"the token's scope ({scopes}) does not cover {obj}")
        enforcer = self._casbin()
        identities = [principal.subject, *(f"group:{g}" for g in principal.groups)]
        with self._lock:
            identities += enforcer.get_implicit_roles_for_user(principal.subject)
        for identity in dict.fromkeys(identities):
            if (identity, action) not in self._index:
                continue  # no rule could allow it: spare Casbin the call
            allowed, rule = self._enforce_one(identity, action, obj)
            if allowed:
                via = "" if identity == principal.subject else f"; {principal.subject} is in it"
                return Decision(
                    True, f"{rule[3]} grants {rule[0]} {action} on {rule[2]}{via}", rule[3]
                )
        return Decision(
            False, f"no grant in {self.source} allows {principal.subject} to {action} {obj}"
        )

    def explain(self, subject: str, action: str, obj: str) -> Decision:
        """`GET /authz/check`: the decision for a subject named in a query (with the groups
        rbac.yaml puts it in; a login's own groups are not known here)."""
        return self.enforce(Principal(subject), action, obj)

    def may_approve(self, who: str | Principal, change_author: str, obj: str) -> Decision:
        """May `who` approve a change by `change_author` to `obj`? Never their own change."""
        principal = who if isinstance(who, Principal) else Principal(who)
        if principal.subject.casefold() == change_author.casefold():
            return Decision(
                False,
                f"{principal.subject} is the author of the change: nobody approves their own"
                " change",
            )
        return self.enforce(principal, "approve", obj)

    def permissions(self) -> set[Permission]:
        """Every (subject, action, glob) the rules allow, group members given their groups'."""
        direct = {
            Permission(s, a, o)
            for grant in self.grants
            for s in grant.subjects
            for a in grant.actions
            for o in grant.scope
        }
        inherited = {
            Permission(member, p.action, p.object)
            for group, members in self.groups.items()
            for p in direct
            if p.subject == f"group:{group}"
            for member in members
        }
        return direct | inherited


def _check_request(action: str, obj: str) -> None:
    if action not in ACTIONS:
        raise InputError(f"no action {action!r}", hint=suggest(action, list(ACTIONS), "action"))
    if obj != SERVER and _OBJECT.fullmatch(obj) is None:
        raise InputError(
            f"not an object: {obj!r}",
            hint=f"name one configuration as SERVICE@ENV (payments@prod), or {SERVER} the server",
        )


def rbac_of(snap: Snapshot) -> Authorizer | None:
    """rbac.yaml of `snap` (scopes checked against its manifest); None when it has none."""
    if RBAC not in snap.files:
        return None
    raise_first(lint_rbac(snap))
    return Authorizer._read(snap.document(RBAC))


class AuthorizerCache:
    """The Authorizer of a served branch's head, built again only when rbac.yaml or cfgctl.yaml
    changes (by blob id): a build costs ~40 ms (the first in a process ~0.3 s: imports), an
    enforce ~0.1 ms. A broken rbac.yaml fails closed: an Authorizer that allows nothing, its
    reason naming the problem."""

    def __init__(self) -> None:
        self._key: tuple[str | None, str | None] | None = None
        self._authz = Authorizer()
        self._lock = threading.Lock()
        self.error: InputError | None = None

    def of(self, snap: Snapshot) -> Authorizer:
        rules, manifest = snap.files.get(RBAC), snap.files.get("cfgctl.yaml")
        key = (rules.oid if rules else None, manifest.oid if manifest else None)
        with self._lock:
            if key != self._key:
                try:
                    self._authz, self.error = Authorizer.from_snapshot(snap), None
                except InputError as exc:
                    self._authz, self.error = Authorizer(source=f"{RBAC} (broken: {exc})"), exc
                self._key = key
            return self._authz
