"""The repository a server serves: its branch, snapshots by commit, and each answer computed
once per commit.

    served = ServedRepo.open(settings)
    head = served.read_head()                                   # the branch's commit id
    view = await served.config(head, "payments", "prod", provenance=False, reveal=False)
    view.body, view.etag

Every read of Git and YAML runs on one worker thread (`ThreadPoolExecutor(max_workers=1)`): the
event loop never blocks on it, pygit2 objects and the session's memos are never shared between
threads, and concurrent requests for the same answer wait on one computation (single flight).
Answers are kept by (commit, what): a commit never changes, so a kept answer never goes stale;
the memo is bounded (least recently used out). Masked reads go through a session that never
decrypts: a bug in masking cannot show a plaintext that was never there. Revealed answers are
computed each time and never kept.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pygit2

from cfgctl.errors import InputError
from cfgctl.repo.decrypt import Decrypter
from cfgctl.repo.gitstore import FileRef, GitStore
from cfgctl.repo.manifest import suggest
from cfgctl.repo.session import LRU, Session
from cfgctl.repo.snapshot import Snapshot, find_root
from cfgctl.server.etag import etag_of
from cfgctl.server.problems import Problem
from cfgctl.server.settings import ServerSettings

if TYPE_CHECKING:
    from cfgctl.server.upstream import Upstream

__all__ = ["ServedRepo", "View"]

T = TypeVar("T")
_FULL_ID = re.compile(r"[0-9a-fA-F]{40}")


@dataclass(frozen=True)
class View:
    """One answer: its body, strong ETag and the commit it was read at."""

    body: bytes
    etag: str
    commit: str

    @classmethod
    def of(cls, body: bytes, commit: str) -> View:
        return cls(body, etag_of(body), commit)


class _Locked(Decrypter):
    """Decrypts nothing: the masked reads' decrypter (encrypted values stay ciphertext and are
    masked; validation skips them, as it does for a layer no key opens)."""

    def decrypted(self, ref: FileRef) -> Any:
        return None


class ServedRepo:
    """See the module docstring."""

    def __init__(
        self, settings: ServerSettings, root: Path, branch: str, upstream: Upstream | None = None
    ) -> None:
        self.settings, self.root, self.branch = settings, root, branch
        self.upstream = upstream  # remote mode: the clone `root` is, and its remote
        self.ref = f"refs/heads/{branch}"
        self._executor = concurrent.futures.ThreadPoolExecutor(1, "cfgctl-repo")
        # The watcher reads the ref on the event loop's thread: a Repository of its own.
        self._ref_repo = pygit2.Repository(str(GitStore.open(root).repo.path))
        self._masked = Session(use_cache=False, decrypter=_Locked())
        self._revealing = Session(use_cache=False)
        self._snapshots: LRU[tuple[str, bool], Snapshot] = LRU(8)
        self._answers: LRU[Hashable, object] = LRU(settings.render_cache)
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}
        self._store: GitStore | None = None  # the repository thread's (resolve_now)
        self._resolved: LRU[str, str] = LRU(4096)  # commit ids in full known to exist

    @classmethod
    def open(cls, settings: ServerSettings) -> ServedRepo:
        """The repository of `settings`; `InputError` when it is none, or has no such branch.
        With `settings.remote`: its clone, fetched now (`EnvError` when it cannot be)."""
        if settings.remote is not None:
            from cfgctl.server.upstream import Upstream

            upstream = Upstream.open(settings)
            return cls(settings, upstream.path, upstream.branch, upstream)
        root = find_root(settings.repo)
        store = GitStore.open(root)
        branch = settings.branch
        if branch is None:
            if store.repo.head_is_unborn or store.repo.head_is_detached:
                raise InputError(
                    f"{root}: HEAD names no branch with a commit",
                    hint="pass --branch NAME, the branch to serve",
                )
            branch = store.repo.head.shorthand
        if store.repo.references.get(f"refs/heads/{branch}") is None:
            raise InputError(
                f"{root} has no branch {branch!r}",
                hint=suggest(branch, store.repo.branches.local, "branch"),
            )
        return cls(settings, root, branch)

    def read_head(self) -> str | None:
        """The branch's commit id now (one ref read), None when the ref is gone."""
        ref = self._ref_repo.references.get(self.ref)
        return None if ref is None else str(ref.resolve().target)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._masked.close()
        self._revealing.close()

    # --- running on the repository's thread ----------------------------------------------------

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on the repository's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    async def once(self, key: Hashable, fn: Callable[[], T], *, keep: bool = True) -> T:
        """`fn()` on the repository's thread, once for every caller asking for `key` at the
        same time; its outcome (a value, or a `Problem`) kept by `key` when `keep`."""
        if keep:
            known = self._answers.get(key)
            if isinstance(known, Problem):
                raise known
            if known is not None:
                return known  # type: ignore[return-value]
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self.run(fn))
            self._pending[key] = pending
            pending.add_done_callback(lambda done: self._settle(key, done, keep))
        # shield: a client that goes away does not cancel the others' computation.
        result: T = await asyncio.shield(pending)
        return result

    def known(self, key: Hashable) -> object | None:
        """The answer kept by `key` (a value or a `Problem`), None when none is: never computes."""
        return self._answers.get(key)

    def _settle(self, key: Hashable, done: asyncio.Future[Any], keep: bool) -> None:
        self._pending.pop(key, None)
        if not keep or done.cancelled():
            return
        exc = done.exception()
        if exc is None:
            self._answers.put(key, done.result())
        elif isinstance(exc, Problem):
            self._answers.put(key, exc)

    # --- on the repository's thread ------------------------------------------------------------

    def snapshot(self, commit: str, *, reveal: bool = False) -> Snapshot:
        """The snapshot of `commit` (a full commit id); call on the repository's thread."""
        key = (commit, reveal)
        snap = self._snapshots.get(key)
        if snap is None:
            session = self._revealing if reveal else self._masked
            snap = Snapshot.at(self.root, commit, use_cache=False, session=session)
            self._snapshots.put(key, snap)
        return snap

    def resolve_now(self, rev: str) -> str:
        """The commit id `rev` names (a commit, branch or tag); a 404 Problem when none. On the
        repository's thread, with its own open repository (libgit2 rereads refs and finds new
        objects on each lookup)."""
        if self._store is None:
            self._store = GitStore.open(self.root)
        try:
            return str(self._store.commit_of(rev).id)
        except InputError as exc:
            raise Problem.not_found(f"unknown revision {rev!r}", hint=exc.hint) from None

    async def resolve(self, rev: str) -> str:
        """`resolve_now` on the repository's thread; a commit id in full that was resolved
        once is answered at once (it names that commit forever): 10,000 long polls naming the
        same `after=` queue no lookups."""
        if _FULL_ID.fullmatch(rev) and self._resolved.get(rev.lower()) is not None:
            return rev.lower()
        commit = await self.run(self.resolve_now, rev)
        if commit == rev.lower():
            self._resolved.put(commit, commit)
        return commit

    def check_pair(self, snap: Snapshot, service: str, env: str) -> None:
        """A 404 Problem, with the names nearest, unless (service, env) has a configuration."""
        manifest = snap.manifest
        if service not in manifest.services:
            raise Problem.not_found(
                f"unknown service {service!r}", hint=suggest(service, manifest.services, "service")
            )
        if env not in manifest.environments:
            raise Problem.not_found(
                f"unknown environment {env!r}",
                hint=suggest(env, manifest.environments, "environment"),
            )
        if not snap.has_pair(service, env):
            raise Problem.not_found(
                f"environment {env!r} is abstract: only inherited from, never used on its own",
                hint="read an environment that inherits it",
            )
