"""The agent's source: a bare mirror of the remote in the state folder, fetched with pygit2.

    mirror = Mirror(state_dir / "mirror.git", source)
    tip = mirror.fetch()                 # the branch's commit id; SourceError when unreachable
    snap = mirror.snapshot(tip)          # the config repository at that commit

The mirror outlives the remote: when the remote is down, the last fetched commits are still
there, and the services keep the files they have.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pygit2

from cfgctl.agent.config import Source
from cfgctl.cache import Cache
from cfgctl.errors import EnvError
from cfgctl.gitstore import GitStore
from cfgctl.manifest import MANIFEST
from cfgctl.snapshot import Snapshot

__all__ = ["Mirror", "SourceError"]


class SourceError(EnvError):
    """The remote could not be fetched, or has no such branch (exit 3)."""


class Mirror:
    def __init__(self, path: Path, source: Source) -> None:
        self.path = path
        self.source = source
        self._repo: pygit2.Repository | None = None

    @property
    def repo(self) -> pygit2.Repository:
        if self._repo is None:
            if (self.path / "HEAD").is_file():
                self._repo = pygit2.Repository(str(self.path))
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._repo = pygit2.init_repository(str(self.path), bare=True)
            remotes = {r.name: r for r in self._repo.remotes}
            if "origin" not in remotes:
                self._repo.remotes.create("origin", self.source.url)
            elif remotes["origin"].url != self.source.url:
                self._repo.remotes.set_url("origin", self.source.url)
        return self._repo

    @property
    def _ref(self) -> str:
        return f"refs/remotes/origin/{self.source.branch}"

    def fetch(self) -> str:
        """Fetch the branch; its commit id."""
        branch = self.source.branch
        url = self.source.url
        local = "://" not in url and not url.startswith("git@") and ":" not in url.split("/")[0]
        if local and not Path(url).exists():
            raise SourceError(
                f"no Git repository at {url}",
                hint="check source.url in agent.yaml (a path, a file://, https:// or ssh:// URL)",
            )
        try:
            self.repo.remotes["origin"].fetch([f"+refs/heads/{branch}:{self._ref}"])
        except (pygit2.GitError, OSError, ValueError) as exc:
            raise SourceError(
                f"cannot fetch {self.source.url}: {str(exc).strip() or type(exc).__name__}",
                hint="the agent keeps the files in place and retries; check the URL and access",
            ) from None
        tip = self.last_fetched()
        if tip is None:
            raise SourceError(
                f"the remote {self.source.url} has no branch {branch!r}",
                hint="check source.branch in agent.yaml",
            )
        return tip

    def last_fetched(self) -> str | None:
        ref = self.repo.references.get(self._ref)
        return str(ref.target) if ref is not None else None

    def commit(self, sha: str) -> pygit2.Commit:
        commit: pygit2.Commit = self.repo[sha].peel(pygit2.Commit)
        return commit

    def commit_time(self, sha: str) -> datetime:
        return datetime.fromtimestamp(self.commit(sha).commit_time, UTC)

    def snapshot(self, sha: str) -> Snapshot:
        store = GitStore(self.repo)
        files = store.files_of(self.commit(sha), self.source.path)
        if MANIFEST not in files:
            where = f"{self.source.path}/" if self.source.path else ""
            raise SourceError(
                f"commit {sha[:12]} has no {where}{MANIFEST}",
                hint="check source.path in agent.yaml (the config repository's folder)",
            )
        return Snapshot(self.path, files, rev=sha, commit=sha, store=store, cache=Cache(None))
