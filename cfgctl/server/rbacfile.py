"""rbac.yaml as a file: its problems at file:line, for `cfgctl validate` and for the server.

    lint_rbac(snap)                 # [Diagnostic]: schema, broken YAML, unknown names
    check_rbac                      # the same as a RepositoryCheck of `cfgctl validate`

Imports no Casbin: `cfgctl validate` pays only for reading the file.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from cfgctl.diagnostics import Diagnostic
from cfgctl.errors import CfgctlError, InputError, Location
from cfgctl.repo.manifest import suggest
from cfgctl.repo.yamlio import Document

if TYPE_CHECKING:
    from cfgctl.repo.snapshot import Snapshot

__all__ = ["RBAC", "check_rbac", "lint_rbac", "raise_first", "unknown_names"]

RBAC = "rbac.yaml"
_GLOB_META = re.compile(r"[*?\[\]{}]")


def unknown_names(doc: Document, services: set[str], envs: set[str]) -> list[Diagnostic]:
    """Scopes naming (without a glob) a service or environment the manifest does not have: a
    typo there would silently grant nothing."""
    out: list[Diagnostic] = []
    for i, grant in enumerate(doc.data["grants"]):
        for j, scope in enumerate(grant["scope"]):
            if scope == "*":
                continue
            service, _, env = scope.partition("@")
            for name, known, what in ((service, services, "service"), (env, envs, "environment")):
                if _GLOB_META.search(name) or name in known:
                    continue
                out.append(
                    Diagnostic(
                        "error",
                        "rbac",
                        f"grants[{i}].scope[{j}]: no {what} {name!r} in cfgctl.yaml",
                        doc.location(("grants", i, "scope", j)),
                        path=f"grants[{i}].scope[{j}]",
                        hint=suggest(name, sorted(known), what),
                    )
                )
    return out


def lint_rbac(snap: Snapshot) -> list[Diagnostic]:
    """Every problem of rbac.yaml in `snap` (none when it has none), each at its line."""
    if RBAC not in snap.files:
        return []
    try:
        doc = snap.document(RBAC)
    except CfgctlError as exc:
        return [Diagnostic.from_error(exc, "yaml", Location(RBAC))]
    problems: list[Diagnostic] = snap.own_file_problems(RBAC, "rbac", doc)
    if problems:
        return problems
    return unknown_names(doc, set(snap.manifest.services), set(snap.manifest.environments))


def check_rbac(snap: Snapshot, files: set[str] | None) -> list[Diagnostic]:
    """`lint_rbac` as a RepositoryCheck of `cfgctl validate` (always, whatever `files`)."""
    return lint_rbac(snap)


def raise_first(problems: list[Diagnostic]) -> None:
    """An InputError at the first problem's place, all of them in its message."""
    if problems:
        problems = sorted(problems, key=lambda d: d.sort_key())
        first, rest = problems[0], problems[1:]
        more = "".join(f"\n{d.location}: error: {d.message}" for d in rest)
        raise InputError(f"{first.message}{more}", location=first.location, hint=first.hint)
