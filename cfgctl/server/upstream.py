"""Remote mode: the served repository is a bare clone of a remote Git repository, kept fetched.

    upstream = Upstream.open(settings)        # STATE_DIR/remotes/<digest of the URL>.git, fetched
    await upstream.keep_fetching(on_fetched)  # every --poll interval, in the app's lifespan
    head = upstream.fetch()                   # now (a webhook); SourceError when unreachable
    upstream.status()                         # the last successful fetch, the last error
    upstream.publish(["refs/cfgctl/changes/3/head", "refs/cfgctl/changes/3/meta"])

The clone is the agent's `Mirror` (agent/source.py: pygit2, the whole fetch bounded in time,
credentials never echoed), fetching the branch to `refs/heads/BRANCH` of the bare clone, so the
`ServedRepo`, the head watcher and the change requests work on it as on a local repository. It is
kept at restart (the same URL, the same folder). Fetches and writes take one file lock beside the
clone (`<digest>.git.lock`): with `--workers N` one fetch runs at a time, and no fetch moves the
branch under a write; each worker's head watcher reads the ref every quarter second, so all of
them see a new head. A worker skips its periodic fetch when another made one less than an interval
ago (the shared status file `cfgctl-fetch.json` in the clone says when).

When the remote goes away, the last fetched head is still served; the failure is logged and
`/api/v1/status` shows it (`remote.error`, `remote.last_success`) until a fetch succeeds.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from filelock import FileLock

from cfgctl.agent.config import Source
from cfgctl.agent.source import Mirror, SourceError, redact_url
from cfgctl.errors import EnvError, InputError
from cfgctl.repo.fsutil import atomic_write
from cfgctl.repo.timespec import parse_instant, utc_iso
from cfgctl.server.settings import ServerSettings
from cfgctl.server.statedir import state_dir

__all__ = ["STATUS_FILE", "Upstream", "clone_path"]

log = logging.getLogger("cfgctl.server")
STATUS_FILE = "cfgctl-fetch.json"
LOCK_SECONDS = 120.0  # the longest a fetch or a write waits for another one


def clone_path(state: Path, url: str) -> Path:
    """Where the clone of `url` is kept: STATE_DIR/remotes/<16 hex digits of its SHA-256>.git."""
    return state / "remotes" / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}.git"


class Upstream:
    """The bare clone of `settings.remote` and its branch; see the module docstring."""

    def __init__(self, settings: ServerSettings, branch: str) -> None:
        assert settings.remote is not None
        self.branch = branch
        self.url = redact_url(settings.remote)  # what is ever shown of it
        self.interval = settings.fetch_interval
        self.path = clone_path(state_dir(settings.state_dir), settings.remote)
        timeout = timedelta(seconds=settings.fetch_timeout)
        source = Source(settings.remote, branch, timeout=timeout)
        self.mirror = Mirror(self.path, source, ref=f"refs/heads/{branch}")
        # One per path in the process; held per thread, so the fetching thread and the
        # repository's thread exclude each other too.
        self.lock = FileLock(str(self.path) + ".lock", is_singleton=True, timeout=LOCK_SECONDS)

    @classmethod
    def open(cls, settings: ServerSettings) -> Upstream:
        """The clone of `settings.remote`, fetched now unless a fetch of the last interval left
        it current (a worker started right after `cfgctl serve` checked the remote); `EnvError`
        (exit 3) naming the URL when the remote cannot be fetched, `InputError` without a
        branch."""
        if settings.remote is None or not settings.branch:
            raise InputError(
                "--remote needs --branch", hint="name the branch to serve: --branch main"
            )
        upstream = cls(settings, settings.branch)
        try:
            upstream.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if upstream.due() or upstream.mirror.last_fetched() is None:
                upstream.fetch()
        except SourceError as exc:
            raise EnvError(
                exc.message,
                hint="check --remote (a path, file://, https:// or ssh:// URL), --branch, and "
                "that this machine can reach it; the server starts once one fetch succeeds",
            ) from None
        except OSError as exc:
            raise EnvError(
                f"cannot keep the clone of {upstream.url} in {upstream.path}: {exc.strerror}",
                hint="pass a writable --state-dir",
            ) from None
        return upstream

    # --- fetching -------------------------------------------------------------------------------

    def fetch(self) -> str:
        """Fetch the branch now, one fetch at a time across threads and workers; its commit.
        The outcome is recorded in the status file; `SourceError` when it failed."""
        with self.lock:
            attempt = utc_iso(datetime.now(UTC))
            try:
                head = self.mirror.fetch()
            except SourceError as exc:
                self._record(last_attempt=attempt, error=exc.message)
                raise
            self._record(last_attempt=attempt, last_success=attempt, error=None, head=head)
            return head

    def due(self) -> bool:
        """Whether the last fetch (of any worker) is at least most of an interval old."""
        last = self.status().get("last_attempt")
        if not isinstance(last, str):
            return True
        try:
            age = datetime.now(UTC) - parse_instant(last)
        except (InputError, ValueError):
            return True
        return age.total_seconds() >= self.interval * 0.9

    def fetch_if_due(self) -> str | None:
        """`fetch()` unless another worker fetched less than most of an interval ago (checked
        holding the lock: two workers waking together fetch once); None when skipped."""
        with self.lock:
            return self.fetch() if self.due() else None

    async def fetch_soon(self, fetch: Callable[[], str | None] | None = None) -> str | None:
        """`fetch()` (or the given one) off the event loop; None (logged) when the remote
        cannot be fetched."""
        try:
            return await asyncio.to_thread(fetch or self.fetch)
        except SourceError as exc:
            log.warning("%s; serving the last fetched commit of %s", exc.message, self.branch)
            return None

    async def keep_fetching(self, on_fetched: Callable[[], object]) -> None:
        """Fetch every interval (unless another worker just did), then call `on_fetched`."""
        while True:
            await asyncio.sleep(self.interval)
            if await self.fetch_soon(self.fetch_if_due) is not None:
                on_fetched()

    # --- the status shared by the workers -------------------------------------------------------

    def _record(self, **fields: Any) -> None:
        data = {**self.status(), **fields}
        try:
            atomic_write(self.path / STATUS_FILE, json.dumps(data, sort_keys=True).encode())
        except OSError as exc:
            log.warning("cannot write %s: %s", self.path / STATUS_FILE, exc.strerror)

    def status(self) -> dict[str, Any]:
        """{last_success, last_attempt, error, head} as the last fetch of any worker left them."""
        try:
            data = json.loads((self.path / STATUS_FILE).read_bytes())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def document(self) -> dict[str, Any]:
        """The `remote` part of /api/v1/status."""
        known = self.status()
        return {
            "url": self.url,
            "branch": self.branch,
            "poll_seconds": self.interval,
            "last_success": known.get("last_success"),
            "last_attempt": known.get("last_attempt"),
            "error": known.get("error"),
        }

    # --- writing --------------------------------------------------------------------------------

    def publish(self, refs: Sequence[str]) -> None:
        """Push `refs` of the clone to the remote, never forced: `PushRejected` (the remote
        moved, or refuses) or `SourceError` (unreachable). Call holding `lock`."""
        self.mirror.push(list(refs))
