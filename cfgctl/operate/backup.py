"""`cfgctl backup create|verify`: one file holding the whole repository, checked end to end.

    created = create_backup(Path("."), Path("cfg.backup"))    # a Git bundle of every ref + manifest
    verified = verify_backup(Path("cfg.backup"))              # CheckFailed naming any mismatch

A backup is a tar (`cfgctl.operate.backupfile`) of `repo.bundle` (`git bundle create --all`),
`manifest.json` and `SHA256SUMS`. The manifest records the SHA-256 of the bundle, the object id
of each ref, where HEAD pointed, the config repository's folder in the Git repository, the schema
registry, and the digest of the effective configuration of every (service, env) at HEAD
(`cfgctl.operate.backupdigest`). Verifying reads every byte against its checksum, runs `git
bundle verify` in an empty repository (the bundle is sound and needs no other repository),
unpacks it into memory-backed scratch space, compares the refs, and renders every pair again from
the bundle to compare the digests.

A backup never holds a plaintext secret: `create` refuses when any `.secrets.yaml` reachable from
any ref is not SOPS-encrypted, and `verify` checks the same of the bundle.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import CheckoutStrategy

from cfgctl._version import __version__
from cfgctl.errors import CheckFailed, InputError, Location
from cfgctl.operate.backupdigest import (
    config_digests,
    differences,
    plaintext_secrets,
    schema_registry,
    total_digest,
)
from cfgctl.operate.backupfile import (
    BUNDLE,
    FORMAT,
    VERSION,
    OpenedBackup,
    encode_manifest,
    read_backup,
    sha256_file,
    write_backup,
)
from cfgctl.operate.backupgit import bundle_heads, create_bundle, fetch_bundle, verify_bundle
from cfgctl.repo.cache import Cache
from cfgctl.repo.gitstore import GitStore
from cfgctl.repo.session import Session
from cfgctl.repo.snapshot import Snapshot, find_root
from cfgctl.repo.timespec import utc_iso

__all__ = [
    "Created",
    "Unpacked",
    "Verified",
    "check_digests",
    "create_backup",
    "open_verified",
    "scratch",
    "unpack",
    "verify_backup",
]


@dataclass
class Created:
    path: Path
    size: int
    head: dict[str, str | None]
    refs: int
    pairs: int
    configuration: str  # the digest of every pair's digest
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "bytes": self.size,
            "head": self.head,
            "refs": self.refs,
            "pairs": self.pairs,
            "configuration": self.configuration,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Verified:
    """A backup checked end to end: what it holds, and how long each step took."""

    path: Path
    manifest: dict[str, Any]
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def pairs(self) -> int:
        return sum(len(envs) for envs in self.manifest["pairs"].values())

    def to_dict(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "file": str(self.path),
            "ok": True,
            "created": m["created"],
            "head": m["head"],
            "refs": m["refs"],
            "pairs": self.pairs,
            "configuration": m["configuration"],
            "seconds": {k: round(v, 3) for k, v in self.steps.items()},
        }


# --- shared steps -------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A private folder in memory-backed storage (/dev/shm where there is one), removed after."""
    from cfgctl.secrets.editor import edit_folder_base

    folder = Path(tempfile.mkdtemp(prefix="cfgctl-backup-", dir=edit_folder_base()))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _cache(cache_root: Path | None, session: Session) -> Cache:
    return session.cache_for(cache_root) if cache_root is not None else Cache(None)


def _snapshot(
    store: GitStore, commit: str, prefix: str, root: Path, session: Session, cache: Cache
) -> Snapshot:
    files = store.files_of(store.commit_of(commit), prefix.rstrip("/"))
    return Snapshot(
        root, files, rev=commit, commit=commit, store=store, cache=cache, session=session
    )


def _locate(start: Path) -> tuple[GitStore, Path, str]:
    """The Git repository to back up, the config repository's root and its folder in Git."""
    try:
        root: Path | None = find_root(start)
    except InputError:
        if GitStore.discover(start.resolve()) is None:
            raise
        root = None
    store = GitStore.open(root or start.resolve())
    root = root or store.workdir or start.resolve()
    prefix = ""
    if store.workdir is not None and root.is_relative_to(store.workdir) and root != store.workdir:
        prefix = root.relative_to(store.workdir).as_posix() + "/"
    return store, root, prefix


def _refuse_plaintext(store: GitStore, git_dir: Path, where: str) -> None:
    found = plaintext_secrets(store, git_dir)
    if found:
        path, oid = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise CheckFailed(
            f"{where}: {path} (blob {oid[:12]}) is not encrypted{more}: a backup never holds a "
            "plaintext secret",
            hint=f"encrypt it (cfgctl secrets encrypt {path}) and commit; a secret that was ever "
            "committed in plain text must be rotated and removed from the history",
        )


# --- create -------------------------------------------------------------------------------------


def _check_out(out: Path, force: bool) -> Path:
    out = out.absolute()
    if out.is_dir():
        raise InputError(f"{out} is a folder", hint="name the backup file to write")
    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} does not exist", hint="create it first")
    if out.exists() and not force:
        raise InputError(f"{out} exists already", hint="name a new file, or --force to replace it")
    return out


def create_backup(
    start: Path, out: Path, *, force: bool = False, use_cache: bool = True
) -> Created:
    """Write a backup of the repository found from `start` to `out` (see the module docstring)."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    out = _check_out(out, force)
    store, root, prefix = _locate(start)
    git_dir = Path(store.repo.path)
    session = Session(use_cache=use_cache)
    try:
        with scratch() as work:
            bundle = work / BUNDLE
            create_bundle(git_dir, bundle)
            refs = bundle_heads(bundle)
            _refuse_plaintext(store, git_dir, "the repository")
            head = _head(store, refs)
            manifest = _manifest(store, root, prefix, refs, head, session, use_cache)
            manifest.update(created=utc_iso(now), bundle={"sha256": sha256_file(bundle)})
            data = encode_manifest(manifest)
            size = write_backup(out, data, bundle, mtime=int(now.timestamp()), force=force)
    finally:
        session.close()
    return Created(
        out,
        size,
        head,
        len(refs),
        sum(len(e) for e in manifest["pairs"].values()),
        manifest["configuration"],
        time.perf_counter() - started,
    )


def _head(store: GitStore, refs: dict[str, str]) -> dict[str, str | None]:
    commit = refs.get("HEAD")
    ref = None
    repo = store.repo
    if commit is not None and not repo.head_is_detached and not repo.head_is_unborn:
        ref = repo.head.name if str(repo.head.target) == commit else None
    return {"ref": ref, "commit": commit}


def _manifest(
    store: GitStore,
    root: Path,
    prefix: str,
    refs: dict[str, str],
    head: dict[str, str | None],
    session: Session,
    use_cache: bool,
) -> dict[str, Any]:
    digests: dict[str, dict[str, str]] = {}
    error: str | None = "HEAD names no commit"
    registry = None
    if head["commit"] is not None:
        cache = session.cache_for(root, use_cache and store.workdir is not None)
        snap = _snapshot(store, head["commit"], prefix, root, session, cache)
        digests, error = config_digests(snap)
        registry = schema_registry(snap)
        cache.flush()
    return {
        "format": FORMAT,
        "version": VERSION,
        "cfgctl": __version__,
        "prefix": prefix,
        "head": head,
        "refs": refs,
        "schemas": registry,
        "pairs": digests,
        "pairs_error": error,
        "configuration": total_digest(digests),
    }


# --- verify -------------------------------------------------------------------------------------


def _fields(opened: OpenedBackup) -> dict[str, Any]:
    """The manifest, once its fields have the types cfgctl wrote (it may be forged)."""
    m = opened.manifest
    head = m.get("head")
    ok = (
        isinstance(m.get("refs"), dict)
        and isinstance(head, dict)
        and isinstance(m.get("prefix"), str)
        and isinstance(m.get("pairs"), dict)
        and all(isinstance(v, dict) for v in m["pairs"].values())
        and isinstance(m.get("created"), str)
        and isinstance(m.get("configuration"), str)
    )
    if not ok:
        raise CheckFailed(
            "manifest.json lacks the fields of a cfgctl backup manifest",
            location=Location(str(opened.path)),
            hint="use another copy of the backup",
        )
    return m


def unpack(opened: OpenedBackup, repo_dir: Path, *, bare: bool) -> GitStore:
    """A new repository at `repo_dir` holding every ref of the backup's bundle as it was, HEAD
    where it pointed (checked out when not `bare`). CheckFailed when the bundle is incomplete
    or its refs are not the manifest's."""
    m = _fields(opened)
    assert opened.bundle is not None
    head = m["head"]
    initial = head.get("ref") or "refs/heads/main"
    repo = pygit2.init_repository(str(repo_dir), bare=bare, initial_head=initial)
    verify_bundle(opened.bundle, repo_dir)
    heads = bundle_heads(opened.bundle)
    if heads != m["refs"]:
        changed = sorted(set(heads.items()) ^ set(m["refs"].items()))
        raise CheckFailed(
            f"the bundle's refs are not the manifest's: {changed[0][0]} differs",
            location=Location(str(opened.path)),
            hint="use another copy of the backup",
        )
    fetch_bundle(repo_dir, opened.bundle)
    if head.get("ref") is None and head.get("commit"):
        repo.set_head(pygit2.Oid(hex=head["commit"]))
    if not bare and head.get("commit"):
        repo.checkout_head(strategy=CheckoutStrategy.FORCE)  # type: ignore[no-untyped-call]
    return GitStore(repo)


def check_digests(
    opened: OpenedBackup, store: GitStore, root: Path, session: Session, cache: Cache
) -> Snapshot | None:
    """Render every pair again from the unpacked bundle; CheckFailed naming each mismatch.
    Returns the snapshot of HEAD (None without one)."""
    m = opened.manifest
    _refuse_plaintext(store, Path(store.repo.path), "the bundle")
    digests: dict[str, dict[str, str]] = {}
    error: str | None = "HEAD names no commit"
    snap = None
    if m["head"].get("commit"):
        snap = _snapshot(store, m["head"]["commit"], m["prefix"], root, session, cache)
        digests, error = config_digests(snap)
        if m.get("schemas") is not None and schema_registry(snap) != m["schemas"]:
            raise CheckFailed(
                "the schema registry rendered from the bundle is not the manifest's",
                location=Location(str(opened.path)),
            )
        cache.flush()
    problems = differences(m["pairs"], digests)
    if error != m.get("pairs_error"):
        problems.insert(
            0,
            f"cfgctl.yaml: {error or 'readable'} from the bundle, "
            f"{m.get('pairs_error') or 'readable'} in the manifest",
        )
    if problems:
        shown = "; ".join(problems[:3]) + (
            f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        )
        raise CheckFailed(
            f"{len(problems)} effective configuration(s) differ from the backup's digests: {shown}",
            location=Location(str(opened.path)),
            hint="the backup does not hold the configuration it recorded: use another copy",
        )
    return snap


@dataclass
class Unpacked:
    """A backup read, checked and unpacked: the repository, its HEAD's snapshot, the seconds of
    each step."""

    opened: OpenedBackup
    store: GitStore
    head: Snapshot | None
    steps: dict[str, float]


def open_verified(
    path: Path,
    work: Path,
    *,
    bare: bool,
    cache_root: Path | None,
    session: Session,
    repo_dir: Path | None = None,
) -> Unpacked:
    """Read and check the backup at `path` (its bundle written into `work`), unpack it into
    `repo_dir` (default `work/repo`), compare every digest."""
    steps: dict[str, float] = {}
    mark = time.perf_counter()

    def step(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        steps[name] = now - mark
        mark = now

    opened = read_backup(path, bundle_to=work / BUNDLE)
    step("checksums")
    repo_dir = repo_dir or work / "repo"
    store = unpack(opened, repo_dir, bare=bare)
    step("unpack")
    head = check_digests(opened, store, repo_dir, session, _cache(cache_root, session))
    step("digests")
    return Unpacked(opened, store, head, steps)


def verify_backup(path: Path, *, cache_root: Path | None = None) -> Verified:
    """Check the backup at `path` end to end (see the module docstring); nothing is written
    but scratch space. `cache_root`: a repository whose parse cache may be used (by blob id)."""
    session = Session()
    try:
        with scratch() as work:
            done = open_verified(path, work, bare=True, cache_root=cache_root, session=session)
    finally:
        session.close()
    return Verified(path, done.opened.manifest, done.steps)
