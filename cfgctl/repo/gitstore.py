"""Git through pygit2: open the repository, read files at a revision, commit. No `git` subprocess.

store = GitStore.discover(Path("."))
files = store.files_at("HEAD~1", prefix="")   # {"config/prod/payments.yaml": FileRef, ...}
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pygit2
from pygit2.enums import ObjectType

from cfgctl.errors import CfgctlError, InputError
from cfgctl.telemetry import note_commit, with_trailer

if TYPE_CHECKING:
    from cfgctl.repo.gitstatus import StatusProbe

log = logging.getLogger(__name__)

__all__ = [
    "FileRef",
    "GitStore",
    "OverlayFiles",
    "TreeFiles",
    "blob_id",
    "default_signature",
    "init_repository",
]

TREE_CACHE_LIMIT = 16 << 20  # bytes: the largest tree libgit2 keeps parsed in its cache


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
        # libgit2 keeps no tree over 4 KiB in its object cache by default: the tree of a folder
        # of 10,000 files (~500 KiB) was parsed again for each lookup, by each snapshot.
        pygit2.settings.cache_object_limit(ObjectType.TREE, TREE_CACHE_LIMIT)
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
            raise InputError(  # outside a repository: 2, as a folder without cfgctl.yaml
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

    def files_at(self, rev: str, prefix: str = "") -> TreeFiles:
        """The files under `prefix` (a folder of the repository, '' for all) at `rev`."""
        return self.files_of(self.commit_of(rev), prefix)

    def files_of(self, commit: pygit2.Commit, prefix: str = "") -> TreeFiles:
        tree: pygit2.Tree | None = commit.tree
        if prefix:
            try:
                sub = self.repo[commit.tree[prefix].id]
            except KeyError:
                sub = None
            tree = sub if isinstance(sub, pygit2.Tree) else None
        return TreeFiles(self, tree)

    def worktree_files(
        self, root: Path, wanted: Callable[[str], bool], probe: StatusProbe | None = None
    ) -> OverlayFiles | None:
        """The files under `root` (a folder of the work tree) as `git status` sees them, or None
        when HEAD has no commit yet. The status is taken when the changes are first asked for
        (from `probe`, a status started earlier, if given): what needs only HEAD can go first,
        and a snapshot that is only handed on (to be read again under a lock) costs none."""
        if (
            self.workdir is None
            or self.repo.head_is_unborn
            or not root.is_relative_to(self.workdir)
        ):
            return None
        prefix = root.relative_to(self.workdir).as_posix()
        prefix = "" if prefix == "." else prefix + "/"
        base = self.files_of(self.commit_of("HEAD"), prefix.rstrip("/"))
        return OverlayFiles(base, lambda: self._read_changes(prefix, wanted, probe))

    def _read_changes(
        self, prefix: str, wanted: Callable[[str], bool], probe: StatusProbe | None
    ) -> dict[str, FileRef | None]:
        """The changed files under `prefix` that `wanted` keeps, read from disk (None: gone)."""
        assert self.workdir is not None
        changed: dict[str, FileRef | None] = {}
        try:
            for path in self.changed_paths(probe):
                if not path.startswith(prefix):
                    continue
                rel = path[len(prefix) :]
                if not wanted(rel):
                    continue
                disk = self.workdir / path
                changed[rel] = FileRef.of_bytes(rel, disk.read_bytes()) if disk.is_file() else None
        except OSError as exc:
            raise InputError(f"cannot read the work tree: {exc}", hint="check permissions") from exc
        return changed

    def changed_paths(self, probe: StatusProbe | None = None) -> Iterable[str]:
        """The paths of the work tree that differ from HEAD (staged, modified, deleted or
        untracked; not ignored), from `probe` when it can answer, else from libgit2."""
        assert self.workdir is not None, "changed_paths needs a work tree"
        paths = probe.changed(self.repo.path) if probe is not None else None
        if paths is not None:
            log.debug("work tree status: %d changed paths, from the early probe", len(paths))
            return paths
        from cfgctl.repo.gitstatus import changed_in

        try:
            changed = changed_in(self.repo)
        except pygit2.GitError as exc:  # a damaged index, most often
            raise InputError(
                f"cannot read the work tree's Git status: {exc}",
                hint="see `git status`; a damaged index is rebuilt by `rm .git/index && git reset`",
            ) from exc
        log.debug("work tree status: %d changed paths, from libgit2", len(changed))
        return changed

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
        sig = author or default_signature(self.repo)
        parents = [] if self.repo.head_is_unborn else [self.repo.head.target]
        oid = self.repo.create_commit("HEAD", sig, sig, with_trailer(message), tree, parents)
        note_commit(str(oid))
        return str(oid)


class _LazyFiles(Mapping[str, FileRef]):
    """A mapping of files answered by `get` path by path, listed only when iterated."""

    def get(self, path: str, default: Any = None) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def listing(self) -> dict[str, FileRef]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getitem__(self, path: str) -> FileRef:
        found: FileRef | None = self.get(path)
        if found is None:
            raise KeyError(path)
        return found

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.get(path) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.listing())

    def __len__(self) -> int:
        return len(self.listing())


class TreeFiles(_LazyFiles):
    """The files of a Git tree, looked up path by path (in C) and listed only when iterated: a
    diff or a render at a revision touches a handful of the repository's files, not all of them."""

    def __init__(self, store: GitStore, tree: pygit2.Tree | None) -> None:
        self.store = store
        self.tree = tree
        self._found: dict[str, FileRef | None] = {}
        self._folders: dict[str, pygit2.Tree | None] = {}
        self._all: dict[str, FileRef] | None = None

    def get(self, path: str, default: Any = None) -> Any:
        if self._all is not None:
            return self._all.get(path, default)
        if path not in self._found:
            ref: FileRef | None = None
            folder, _, name = path.rpartition("/")
            tree = self._folder(folder)
            if tree is not None and name:
                try:
                    entry = tree[name]
                except (KeyError, ValueError):
                    entry = None
                if entry is not None and entry.type == ObjectType.BLOB:
                    ref = FileRef(path, str(entry.id), self.store)
            self._found[path] = ref
        found = self._found[path]
        return default if found is None else found

    def _folder(self, folder: str) -> pygit2.Tree | None:
        """The tree of a folder, loaded once: looking a nested path up in the root tree reads
        every tree on the way again (~75 µs in a folder of 1,000 files)."""
        if not folder:
            return self.tree
        if folder not in self._folders:
            parent_path, _, name = folder.rpartition("/")
            parent = self._folder(parent_path)
            found: pygit2.Tree | None = None
            if parent is not None:
                try:
                    obj = self.store.repo[parent[name].id]
                except (KeyError, ValueError):
                    obj = None
                found = obj if isinstance(obj, pygit2.Tree) else None
            self._folders[folder] = found
        return self._folders[folder]

    def under(self, folder: str) -> dict[str, FileRef]:
        """The files below `folder` (no trailing slash), walking only that subtree."""
        if self._all is not None or self.tree is None:
            return {p: f for p, f in self.listing().items() if p.startswith(folder + "/")}
        try:
            sub = self.store.repo[self.tree[folder].id]
        except KeyError:
            return {}
        if not isinstance(sub, pygit2.Tree):
            return {}
        walked = _walk(self.store.repo, sub, folder + "/")
        return {path: FileRef(path, oid, self.store) for path, oid in walked}

    def listing(self) -> dict[str, FileRef]:
        if self._all is None:
            walked = _walk(self.store.repo, self.tree, "") if self.tree is not None else iter(())
            self._all = {path: FileRef(path, oid, self.store) for path, oid in walked}
        return self._all


class OverlayFiles(_LazyFiles):
    """A work tree as Git sees it: the files of HEAD, with what `git status` reports as changed,
    new or deleted read from disk. Reads only the changed files, not the whole tree; a file that
    .gitignore hides is not seen."""

    def __init__(
        self,
        base: TreeFiles,
        changed: Mapping[str, FileRef | None] | Callable[[], Mapping[str, FileRef | None]],
    ) -> None:
        self.base = base
        # None: deleted. A callable is called once, when the changes are first needed.
        self._changed = changed if callable(changed) else dict(changed)
        self._failure: CfgctlError | None = None

    @property
    def changed(self) -> dict[str, FileRef | None]:
        if self._failure is not None:  # every reader hears it, not only the first
            raise self._failure
        if callable(self._changed):
            try:
                self._changed = dict(self._changed())
            except CfgctlError as exc:
                self._failure = exc
                raise
        return self._changed

    def get(self, path: str, default: Any = None) -> Any:
        if path in self.changed:
            found = self.changed[path]
            return default if found is None else found
        return self.base.get(path, default)

    def under(self, folder: str) -> dict[str, FileRef]:
        out = self.base.under(folder)
        for path, ref in self.changed.items():
            if path.startswith(folder + "/"):
                if ref is None:
                    out.pop(path, None)
                else:
                    out[path] = ref
        return out

    def listing(self) -> dict[str, FileRef]:
        out = dict(self.base.listing())
        for path, ref in self.changed.items():
            if ref is None:
                out.pop(path, None)
            else:
                out[path] = ref
        return out


def _walk(repo: pygit2.Repository, tree: pygit2.Tree, base: str) -> Iterator[tuple[str, str]]:
    for entry in tree:
        path = f"{base}{entry.name}"
        if entry.type == ObjectType.TREE:
            sub = repo[entry.id]
            assert isinstance(sub, pygit2.Tree)
            yield from _walk(repo, sub, path + "/")
        elif entry.type == ObjectType.BLOB:
            yield path, str(entry.id)


def default_signature(repo: pygit2.Repository) -> pygit2.Signature:
    """The user's Git identity, or cfgctl's own when Git knows none."""
    try:
        return repo.default_signature
    except (KeyError, pygit2.GitError):
        return pygit2.Signature("cfgctl", "cfgctl@localhost", int(time.time()), 0)


def init_repository(path: Path) -> GitStore:
    """A new non-bare repository at `path` with `main` as its initial branch."""
    repo = pygit2.init_repository(str(path), bare=False, initial_head="main")
    return GitStore(repo)
