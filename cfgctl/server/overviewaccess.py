"""The overview as one caller may see it: all of it with `read` on `config:*@*`, else only the
pairs it may read (a token scoped to `payments@*` sees payments, and the other cells as null).

    readable = await readable_pairs(request, subject, commit, grid)  # None: all
    doc = narrow(counts, changes, agents, readable)

The pairs a subject may read are asked of the app's access policy one by one (~0.1 ms each:
3.7 s for 10,000 services x 3 environments), once per subject and commit, on the event loop
like every decision but yielding to it every CHUNK decisions, and kept in the app's state
(bounded). Nothing is audited: these are the cells a read shows, not requests refused.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request

from cfgctl.server.problems import Problem
from cfgctl.server.security import Security, Subject

__all__ = ["MAX_KEPT", "narrow", "readable_pairs"]

MAX_KEPT = 256  # (subject, commit) answers kept
CHUNK = 500  # decisions between two yields to the event loop (~50 ms)
ALL = "config:*@*"


def _allowed(security: Security, subject: Subject, obj: str) -> bool:
    verdict = security.policy.allows(subject, "read", obj)
    return verdict if isinstance(verdict, bool) else verdict.allowed


async def readable_pairs(
    request: Request, subject: Subject, commit: str, grid: dict[str, Any]
) -> frozenset[tuple[str, str]] | None:
    """None when `subject` may read every configuration; else the pairs of `grid` (services x
    environments) it may read; a 403 problem when none."""
    security: Security = request.app.state.security
    if _allowed(security, subject, ALL):
        return None
    token = subject.token.id if subject.token is not None else None
    key = (subject.name, token, commit)
    kept: dict[tuple[str, str | None, str], frozenset[tuple[str, str]]] | None
    kept = getattr(request.app.state, "overview_readable", None)
    if kept is None:
        kept = request.app.state.overview_readable = {}
    if key not in kept:
        if len(kept) >= MAX_KEPT:
            kept.clear()
        pairs = [(s["name"], env) for s in grid["services"] for env in grid["environments"]]
        allowed: set[tuple[str, str]] = set()
        for i, (service, env) in enumerate(pairs):
            if _allowed(security, subject, f"config:{service}@{env}"):
                allowed.add((service, env))
            if i % CHUNK == CHUNK - 1:
                await asyncio.sleep(0)  # on the event loop, as every decision: let others in
        kept[key] = frozenset(allowed)
    found = kept[key]
    if not found:
        raise Problem(
            "forbidden",
            f"{subject.name!r} may read no configuration of the branch",
            hint="ask an administrator for a role that allows reading a service",
        )
    return found


def narrow(
    counts: dict[str, Any],
    changes: list[dict[str, Any]],
    agents: list[dict[str, Any]],
    readable: frozenset[tuple[str, str]] | None,
) -> dict[str, Any]:
    """The overview's parts as seen by one who reads `readable` only (None: everything): the
    services with at least one readable pair, the others' counts null, totals of what is seen,
    no repository-wide problems, change requests and agents of readable pairs only."""
    if readable is None:
        return {**counts, "changes": changes, "agents": agents}
    envs = counts["environments"]
    services = []
    for service in counts["services"]:
        seen = [(service["name"], env) in readable for env in envs]
        if not any(seen):
            continue
        errors = [n if ok else None for n, ok in zip(service["errors"], seen, strict=True)]
        warnings = [n if ok else None for n, ok in zip(service["warnings"], seen, strict=True)]
        services.append({**service, "errors": errors, "warnings": warnings})
    total_errors = sum(n for s in services for n in s["errors"] if n)
    total_warnings = sum(n for s in services for n in s["warnings"] if n)

    def visible(pair: str) -> bool:
        service, _, env = pair.partition("@")
        return (service, env) in readable

    shown_changes = []
    for change in changes:
        pairs = [p for p in change["pairs"] if visible(p)]
        if pairs:
            shown_changes.append({**change, "pairs": pairs})
    return {
        "environments": envs,
        "ok": total_errors == 0,
        "errors": total_errors,
        "warnings": total_warnings,
        "problems": [],
        "services": services,
        "changes": shown_changes,
        "agents": [a for a in agents if (a["service"], a["env"]) in readable],
    }
