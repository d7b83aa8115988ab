"""Writes become change requests: a merge patch of one layer file, committed on the branch tip
as a change request (review/changerequests.py), never on the branch itself.

    body = await read_json(request)                     # capped, parsed, a problem if bad
    tip, etag = ...; check_if_match(if_match, etag)     # 428 without, 412 when stale
    judged = await desk.run(desk.propose, tip, service, env, patch, title, author)

The `Desk` holds the repository's `ChangeStore`; everything it does runs on the repository's
thread (`ServedRepo.run`), where every Git read and write of the server happens, one at a time.
The If-Match check and the commit are tied to the same tip: the patch is computed from the
snapshot whose ETag matched and committed on that very commit, so a branch that moved since is
merged three-way at merge time, never overwritten.

In remote mode (`ServedRepo.upstream`), `Desk.write` holds the clone's lock (no fetch moves the
branch meanwhile) and the store publishes every ref it changes (the change's head and record,
the merged branch) to the remote, never forced: a remote that moved since the last fetch is a
409 (the server fetches it at once, so merging again merges onto its new tip), an unreachable
one a 503, and either way nothing is kept here that the remote does not have.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import pygit2
from fastapi import Request

from cfgctl import telemetry
from cfgctl.diagnostics import DiagnosedFailure
from cfgctl.errors import InputError
from cfgctl.repo.gitstore import GitStore
from cfgctl.review.approval import Membership
from cfgctl.review.changerequests import ChangeRequest, ChangeStore, Judged
from cfgctl.server.problems import Problem

if TYPE_CHECKING:
    from cfgctl.repo.snapshot import Snapshot
    from cfgctl.server.repository import ServedRepo
    from cfgctl.server.upstream import Upstream

__all__ = [
    "EVERY_PAIR",
    "MAX_DEPTH",
    "MAX_TITLE",
    "PATCH_TYPES",
    "Desk",
    "check_if_match",
    "depth",
    "desk_of",
    "read_capped",
    "read_json",
    "title_of",
    "touched",
]

T = TypeVar("T")
PATCH_TYPES = ("application/merge-patch+json", "application/json")
MAX_TITLE = 200
MAX_DEPTH = 32  # levels of nesting in a patch: a configuration's keys are far shallower


async def read_capped(request: Request, limit: int, smaller: str) -> bytes:
    """The request body; 413 (hint `smaller`) past `limit` bytes, refused from its
    Content-Length before anything is read, else as soon as the stream passes it."""
    too_large = Problem("payload-too-large", f"the body is over {limit} bytes", hint=smaller)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(
    request: Request,
    *,
    types: tuple[str, ...] | None = PATCH_TYPES,
    limit: int | None = None,
    smaller: str = "send a smaller patch: one environment's layer, the keys that change",
) -> Any:
    """The request body as JSON: 415 for a media type not in `types` (None: any), 413 past
    `limit` bytes (default the settings' `max_body`; refused before the rest is read, with the
    hint `smaller`), 400 when it is not JSON."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if types is not None and media not in types:
        raise Problem(
            "unsupported-media-type",
            f"the body is {media or 'untyped'}; this path reads {' or '.join(types)}",
            hint=f"send Content-Type: {types[0]}",
        )
    if limit is None:
        limit = request.app.state.settings.max_body
    data = await read_capped(request, limit, smaller)
    try:
        return json.loads(data, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem.bad_request(
            f"the body is not JSON: {exc}", hint='send a JSON object, e.g. {"replicas": 3}'
        ) from None
    except RecursionError:
        raise Problem.bad_request(
            "the body is nested too deeply to read", hint=f"nest at most {MAX_DEPTH} levels"
        ) from None


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deep `value` nests (a scalar is 0), counted no further than `limit` + 1 levels."""
    if limit < 0 or not isinstance(value, dict | list):
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((depth(v, limit - 1) for v in children), default=0)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def check_if_match(if_match: str | None, etag: str) -> None:
    """428 without If-Match (or with `*`, which names no read), 412 when it does not name
    `etag`, the strong ETag of the configuration now (weak tags never match, RFC 9110)."""
    hint = (
        "GET the configuration first and send its ETag as If-Match: a write applies to the "
        "configuration you read, never to one you have not seen"
    )
    tags = [t.strip() for t in (if_match or "").split(",") if t.strip()]
    if not tags or tags == ["*"]:
        raise Problem("precondition-required", "a write needs If-Match: ETAG", hint=hint)
    if etag not in tags:
        raise Problem(
            "precondition-failed",
            "the configuration changed since the read If-Match names",
            hint="GET it again, check the change still makes sense, and send the new ETag",
            extra={"etag": etag},
            headers={"ETag": etag},
        )


def title_of(header: str | None, service: str, env: str, keys: list[str]) -> str:
    """The change request's title: X-Cfgctl-Title, else one made of what the patch sets."""
    if header is not None:
        title = " ".join(header.split())
        if not title or len(title) > MAX_TITLE:
            raise Problem.bad_request(
                f"X-Cfgctl-Title must hold 1 to {MAX_TITLE} characters",
                hint="say what the change does, in one line",
            )
        return title
    shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
    return f"{service}@{env}: {shown or 'edit'}"


EVERY_PAIR = "config:*@*"  # what only a grant on everything covers


class Desk:
    """The change requests of the served repository; use only through `run`. `is_member`
    says who is in a policy.yaml team (the rbac.yaml policy's groups); without it, nobody is."""

    def __init__(self, served: ServedRepo, is_member: Membership | None = None) -> None:
        self.served = served
        self.is_member = is_member
        self._store: ChangeStore | None = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.served.run(fn, *args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """`run` for what writes refs: in remote mode under the clone's lock, the remote's
        refusals as problems (see the module docstring)."""
        if self.served.upstream is None:
            return await self.served.run(_traced, fn, *args)
        return await self.served.run(_upstreamed, self.served.upstream, _traced, fn, *args)

    @property
    def store(self) -> ChangeStore:
        if self._store is None:  # made on the repository's thread, used only there
            store = GitStore.open(self.served.root)
            root = self.served.root  # no disk cache: the server writes nothing in the work tree
            upstream = self.served.upstream
            publish = None if upstream is None else upstream.publish
            if self.is_member is None:
                self._store = ChangeStore(store, root, use_cache=False, publish=publish)
            else:
                self._store = ChangeStore(
                    store, root, self.is_member, use_cache=False, publish=publish
                )
        return self._store

    def propose(
        self,
        tip: str,
        service: str,
        env: str,
        patch: Mapping[str, Any],
        title: str | None,
        author: str,
    ) -> Judged:
        """The patch of (service, env) at `tip` as a new change request on `tip`, judged."""
        from cfgctl.editing.mergepatch import SecretInPatch, patch_in_snapshot

        snap = self.served.snapshot(tip)
        try:
            result, after = patch_in_snapshot(snap, service, env, patch)
        except SecretInPatch as exc:
            raise Problem(
                "invalid-patch",
                exc.message,
                hint=f'PUT /api/v1/secrets/{service}/{env}/KEY with {{"value": ...}} (or '
                f"{exc.hint}); nothing was written",
                extra={"secret_keys": exc.keys},
            ) from None
        except DiagnosedFailure as exc:
            raise Problem(
                "check-failed",
                exc.message,
                hint=exc.hint,
                extra={"errors": [d.to_dict() for d in exc.diagnostics]},
            ) from None
        if not result.changed:
            raise Problem(
                "invalid-patch",
                f"the patch changes nothing in {result.path}",
                hint="every value it sets is already there; no change request was opened",
            )
        keys = [*result.set, *(f"-{k}" for k in result.removed)]
        name = title_of(title, service, env, keys)
        message = f"{name}\n\nPatched through the API: {', '.join(keys)} in {result.path}."
        files: dict[str, bytes | None] = {snap.git_prefix + result.path: after}
        change = self.store.open(name, author, self.served.branch, files, message=message,
                                 parent=tip)  # fmt: skip
        return self.judge(change.id)

    def propose_secret(
        self, tip: str, service: str, env: str, key: str, value: Any, author: str
    ) -> Judged:
        """`secrets set` of (service, env) at `tip` as a new change request on `tip`, judged:
        the new ciphertext committed, the value never on disk nor in the answer."""
        from cfgctl.repo.keypath import parse_key
        from cfgctl.secrets.committed import set_secret_in_snapshot

        try:
            path = parse_key(key)
        except InputError as exc:
            raise Problem.bad_request(exc.message, hint=exc.hint) from None
        snap = self.served.snapshot(tip, reveal=True)  # the server's keys: the file is validated
        rel, data = set_secret_in_snapshot(snap, service, env, path, value)
        name = f"{service}@{env}: set secret {key}"
        message = f"{name}\n\nThrough the API: {key} in {rel}, encrypted with SOPS."
        files: dict[str, bytes | None] = {snap.git_prefix + rel: data}
        change = self.store.open(name, author, self.served.branch, files, message=message,
                                 parent=tip)  # fmt: skip
        return self.judge(change.id)

    def get(self, number: int) -> ChangeRequest:
        try:
            return self.store.get(number)
        except InputError as exc:
            raise Problem.not_found(exc.message, hint=exc.hint) from None

    def judge(self, number: int) -> Judged:
        return self.store.judge(number, now=datetime.now(UTC))

    def objects(self, change: ChangeRequest) -> list[str]:
        """The `config:SERVICE@ENV` objects the change's files touch (`touched`), for
        authorize: what approving, merging and withdrawing it are asked on."""
        repo = self.store.repo
        head = repo[pygit2.Oid(hex=change.head)].peel(pygit2.Commit)
        if head.parents:
            diff = head.parents[0].tree.diff_to_tree(head.tree)
        else:
            diff = head.tree.diff_to_tree(swap=True)
        paths = [d.new_file.path for d in diff.deltas] + [d.old_file.path for d in diff.deltas]
        return sorted(touched(self.served.snapshot(change.head), paths)) or [EVERY_PAIR]


def touched(snap: Snapshot, paths: list[str]) -> set[str]:
    """The objects a change of `paths` (from the top of the Git repository) touches at `snap`:
    a layer file's pair; for an environment's `_defaults.yaml`, every service in it and in the
    environments inheriting it; `config:*@*` for any other file (the manifest, a schema, a
    policy, rbac.yaml, .sops.yaml), which only a grant on everything covers."""
    manifest = snap.manifest
    objects: set[str] = set()
    for path in paths:
        parts = path.removeprefix(snap.git_prefix).split("/")
        if len(parts) != 3 or parts[0] != "config" or not parts[2].endswith(".yaml"):
            objects.add(EVERY_PAIR)
            continue
        service = parts[2].removesuffix(".yaml").removesuffix(".secrets")
        if not service.startswith("_"):
            objects.add(f"config:{service}@{parts[1]}")
        elif service == "_defaults" and parts[1] in manifest.environments:
            envs = manifest.children(parts[1])
            objects |= {f"config:{s}@{e}" for s in manifest.services for e in envs}
        else:
            objects.add(EVERY_PAIR)
    return objects


def _traced(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in a span `serve.<fn>` on the repository's thread: the commits it makes
    carry that span's Traceparent trailer (cfgctl.telemetry)."""
    with telemetry.span(f"serve.{getattr(fn, '__name__', 'write').strip('_')}"):
        return fn(*args)


def _upstreamed(upstream: Upstream, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` holding the clone's lock; a refused push a 409 (after a fetch: a retry
    works on the remote's new tip), an unreachable remote a 503."""
    from filelock import Timeout

    from cfgctl.agent.source import PushRejected, SourceError

    try:
        with upstream.lock:
            try:
                return fn(*args)
            except PushRejected as exc:
                with contextlib.suppress(SourceError):
                    upstream.fetch()
                raise Problem(
                    "conflict",
                    exc.message,
                    hint=f"the remote's {upstream.branch} moved since the last fetch; the server "
                    "has fetched it again: merge again (merged onto its new tip when the two "
                    "merge cleanly), or open the change again on the new tip; nothing was lost",
                ) from None
            except SourceError as exc:
                raise Problem(
                    "environment",
                    exc.message,
                    hint="nothing was written; the server keeps serving the last fetched "
                    "commit: try again once the remote is reachable (see /api/v1/status)",
                ) from None
    except Timeout:
        raise Problem(
            "environment",
            "a fetch of the remote holds the clone's lock",
            hint="try again in a moment",
        ) from None


def desk_of(request: Request) -> Desk:
    """The app's Desk, made at its first use; team membership from the app's access policy
    when it has an `is_member(team, user)` (rbac.yaml's groups named as teams)."""
    state = request.app.state
    desk: Desk | None = getattr(state, "desk", None)
    if desk is None:
        is_member = getattr(state.security.policy, "is_member", None)
        desk = state.desk = Desk(state.served, is_member if callable(is_member) else None)
    return desk
