"""Git through pygit2: open the repository, read files at a revision, commit. No `git` subprocess.

store = GitStore.discover(Path("."))
files = store.files_at("HEAD~1", prefix="")   # {"config/prod/payments.yaml": FileRef, ...}
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import ObjectType

from cfgctl.errors import EnvError, InputError

__all__ = ["FileRef", "GitStore", "blob_id", "init_repository"]


def blob_id(data: bytes) -> str:
    """The id Git gives a blob of these bytes: the cache key of a file's content."""
    return str(pygit2.hash(data))


@dataclass(frozen=True)
class FileRef:
    """A file of a snapshot: its path, its blob id, and the bytes on demand."""

    path: str
    oid: str
    _store: GitStore | None = None
    _data: bytes | None = None

    @classmethod
    def of_bytes(cls, path: str, data: bytes) -> FileRef:
        return cls(path, blob_id(data), None, data)

    def read(self) -> bytes:
        if self._data is not None:
            return self._data
        assert self._store is not None
        blob = self._store.repo[self.oid]
        assert isinstance(blob, pygit2.Blob)
        return bytes(blob.data)


class GitStore:
    """A Git repository opened with pygit2; `workdir` is None for a bare repository."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo
        self.workdir = Path(repo.workdir).resolve() if repo.workdir else None

    @classmethod
    def discover(cls, start: Path) -> GitStore | None:
        found = pygit2.discover_repository(str(start))
        if found is None:
            return None
        return cls(pygit2.Repository(found))

    @classmethod
    def open(cls, path: Path) -> GitStore:
        store = cls.discover(path)
        if store is None:
            raise EnvError(
                f"{path} is not inside a Git repository",
                hint="run `git init`, or `cfgctl init DIR` for a new config repository",
            )
        return store

    def commit_of(self, rev: str) -> pygit2.Commit:
        """The commit a revision names (`HEAD~2`, a branch, a tag, an id); `InputError` if none."""
        try:
            obj = self.repo.revparse_single(rev)
            commit = obj.peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError) as exc:
            raise InputError(
                f"unknown revision {rev!r}",
                hint="name a commit, branch or tag that exists (see `git log`)",
            ) from exc
        return commit

    def files_at(self, rev: str, prefix: str = "") -> dict[str, FileRef]:
        """Every file under `prefix` (a folder of the repository, '' for all) at `rev`."""
        tree = self.commit_of(rev).tree
        if prefix:
            try:
                entry = tree[prefix]
            except KeyError:
                return {}
            sub = self.repo[entry.id]
            if not isinstance(sub, pygit2.Tree):
                return {}
            tree = sub
        return {path: FileRef(path, oid, self) for path, oid in _walk(self.repo, tree, "")}

    def commit_files(
        self,
        files: Mapping[str, bytes],
        message: str,
        *,
        author: pygit2.Signature | None = None,
    ) -> str:
        """Write the files into the work tree and the index, and commit them on HEAD."""
        assert self.workdir is not None, "commit_files needs a work tree"
        for rel, data in files.items():
            target = self.workdir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            self.repo.index.add(rel)
        self.repo.index.write()
        tree = self.repo.index.write_tree()
        sig = author or _default_signature(self.repo)
        parents = [] if self.repo.head_is_unborn else [self.repo.head.target]
        oid = self.repo.create_commit("HEAD", sig, sig, message, tree, parents)
        return str(oid)


def _walk(repo: pygit2.Repository, tree: pygit2.Tree, base: str) -> Iterator[tuple[str, str]]:
    for entry in tree:
        path = f"{base}{entry.name}"
        if entry.type == ObjectType.TREE:
            sub = repo[entry.id]
            assert isinstance(sub, pygit2.Tree)
            yield from _walk(repo, sub, path + "/")
        elif entry.type == ObjectType.BLOB:
            yield path, str(entry.id)


def _default_signature(repo: pygit2.Repository) -> pygit2.Signature:
    try:
        return repo.default_signature
    except (KeyError, pygit2.GitError):
        return pygit2.Signature("cfgctl", "cfgctl@localhost", int(time.time()), 0)


def init_repository(path: Path) -> GitStore:
    """A new non-bare repository at `path` with `main` as its initial branch."""
    repo = pygit2.init_repository(str(path), bare=False, initial_head="main")
    return GitStore(repo)
