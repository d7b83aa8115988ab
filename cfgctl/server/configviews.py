"""The configuration read and its long poll, framework-free: what the route (configs.py) and
the fast path in front of it (warmreads.py) both answer with, so the two cannot differ.

    view = await config_view(served, commit, "payments", "prod", provenance=False, reveal=False)
    view, changed = await follow(served, watcher, Pair("payments", "prod"), after, None, 60, gone)
    config_headers(view)          # ETag, Cfgctl-Commit, Cache-Control of every answer of it
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from cfgctl.server.etag import headers_for
from cfgctl.server.longpoll import HeadWatcher, wait_for_change
from cfgctl.server.problems import Problem
from cfgctl.server.rendering import config_document
from cfgctl.server.repository import ServedRepo, View

__all__ = ["Pair", "config_headers", "config_key", "config_view", "follow"]


class Pair(NamedTuple):  # a tuple: made on every read, at the cost of one
    """What a configuration read asks for: (service, env) and how it is shown."""

    service: str
    env: str
    provenance: bool = False
    reveal: bool = False


def config_key(
    commit: str, service: str, env: str, provenance: bool, reveal: bool, checked: bool = True
) -> tuple[Any, ...]:
    """The memo key of a configuration read."""
    if not checked:
        return (commit, "config", service, env, provenance, reveal, "unchecked")
    return (commit, "config", service, env, provenance, reveal)


async def config_view(
    served: ServedRepo,
    commit: str,
    service: str,
    env: str,
    provenance: bool,
    reveal: bool,
    checked: bool = True,
) -> View:
    """The configuration read of (service, env) at `commit`, computed once (its ETag is the
    one a write's If-Match names); a 404 Problem for names the commit does not have. Not
    `checked`: served even when it fails its schema, with its `errors` (`?invalid=true`)."""

    def build() -> View:
        body = config_document(
            served, commit, service, env, provenance=provenance, reveal=reveal, checked=checked
        )
        return View.of(body, commit)

    # A revealed body holds plaintext: computed for its request, never kept.
    key = config_key(commit, service, env, provenance, reveal, checked)
    return await served.once(key, build, keep=not reveal)


def config_headers(view: View) -> dict[str, str]:
    """The headers of every answer of `view`, 200 or 304 (a revealed one adds no-store)."""
    return {"ETag": view.etag, **headers_for(view.commit)}


async def follow(
    served: ServedRepo,
    watcher: HeadWatcher,
    pair: Pair,
    after: str | None,
    if_none_match: str | None,
    seconds: float,
    gone: Callable[[], Awaitable[object]] | None,
) -> tuple[View, bool]:
    """The long poll: (the view at the head, True) once it differs from the one the client
    has (the view at `after`, else the ETag of If-None-Match), or (the view, False) when
    `seconds` pass or `gone` returns. A 400 Problem without either; a 404 for an unknown
    `after`, or for a pair the head does not have."""
    baseline = await _baseline(served, after, if_none_match, pair)

    async def view_at(commit: str) -> View:
        return await config_view(
            served, commit, pair.service, pair.env, pair.provenance, pair.reveal
        )

    return await wait_for_change(watcher, view_at, baseline, seconds, gone=gone)


async def _baseline(
    served: ServedRepo, after: str | None, if_none_match: str | None, pair: Pair
) -> str | None:
    """The ETag a long poll waits to differ from: the view at `after`, else If-None-Match.
    None when (service, env) did not exist at `after`: anything at the head is news."""
    if after is None:
        if not if_none_match:
            raise Problem.bad_request(
                "wait= needs after=COMMIT or an If-None-Match header: what to wait for a change of",
                hint="pass the Cfgctl-Commit of your last read as after=",
            )
        return if_none_match.split(",")[0].strip().removeprefix("W/")
    if not after.strip():
        raise Problem.bad_request(
            "after= is empty", hint="pass the Cfgctl-Commit of your last read as after="
        )
    commit = await served.resolve(after)
    try:
        view = await config_view(
            served, commit, pair.service, pair.env, pair.provenance, pair.reveal
        )
    except Problem as problem:
        if problem.kind in ("not-found", "check-failed"):
            return None
        raise
    return view.etag
