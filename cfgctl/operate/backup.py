"""`cfgctl backup create`: one file holding the whole repository, checked end to end.

    created = create_backup(Path("."), Path("cfg.backup"))    # a Git bundle of every ref + manifest

A backup is a tar (`cfgctl.operate.backupfile`) of `repo.bundle` (`git bundle create --all`),
`manifest.json` and `SHA256SUMS`. The manifest records the SHA-256 of the bundle, the object id
of each ref, where HEAD pointed, the config repository's folder in the Git repository, the schema
registry, and the digest of the effective configuration of every (service, env) at HEAD
(`cfgctl.operate.backupdigest`). Verifying (`cfgctl.operate.verify`) reads every byte against
its checksum, runs `git bundle verify` in an empty repository (the bundle is sound and needs no
other repository), unpacks it into memory-backed scratch space, compares the refs, and renders
every pair again from the bundle to compare the digests.

A backup never holds a plaintext secret: `create` refuses when any `.secrets.yaml` reachable from
any ref is not SOPS-encrypted, and `verify` checks the same of the bundle.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cfgctl._version import __version__
from cfgctl.errors import CheckFailed, InputError
from cfgctl.operate.backupdigest import (
    config_digests,
    plaintext_secrets,
    schema_registry,
    total_digest,
)
from cfgctl.operate.backupfile import (
    BUNDLE,
    FORMAT,
    VERSION,
    encode_manifest,
    sha256_file,
    write_backup,
)
from cfgctl.operate.backupgit import BundleJob, bundle_heads
from cfgctl.repo.cache import Cache
from cfgctl.repo.gitstore import GitStore
from cfgctl.repo.session import Session
from cfgctl.repo.snapshot import Snapshot, find_root
from cfgctl.repo.timespec import utc_iso

__all__ = ["Created", "create_backup", "refuse_plaintext", "scratch", "snapshot_at"]


@dataclass
class Created:
    path: Path
    size: int
    head: dict[str, str | None]
    refs: dict[str, str]
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


def snapshot_at(
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


def refuse_plaintext(store: GitStore, git_dir: Path, where: str) -> None:
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
            job = BundleJob(git_dir, bundle)
            try:
                # Rendered while git writes the bundle; again if HEAD moved meanwhile.
                head = _head(store, _head_commit(store))
                manifest = _manifest(store, root, prefix, head, session, use_cache)
                job.wait()
            finally:
                job.stop()
            refs = bundle_heads(bundle)
            if refs.get("HEAD") != head["commit"]:
                head = _head(store, refs.get("HEAD"))
                manifest = _manifest(store, root, prefix, head, session, use_cache)
            refuse_plaintext(store, git_dir, "the repository")
            manifest.update(refs=refs, created=utc_iso(now), bundle={"sha256": sha256_file(bundle)})
            data = encode_manifest(manifest)
            size = write_backup(out, data, bundle, mtime=int(now.timestamp()), force=force)
    finally:
        session.close()
    return Created(
        out,
        size,
        head,
        manifest["refs"],
        sum(len(e) for e in manifest["pairs"].values()),
        manifest["configuration"],
        time.perf_counter() - started,
    )


def _head_commit(store: GitStore) -> str | None:
    repo = store.repo
    return None if repo.head_is_unborn else str(repo.head.target)


def _head(store: GitStore, commit: str | None) -> dict[str, str | None]:
    """Where HEAD points: its branch (None when detached) and commit."""
    ref = None
    repo = store.repo
    if commit is not None and not repo.head_is_detached and not repo.head_is_unborn:
        ref = repo.head.name if str(repo.head.target) == commit else None
    return {"ref": ref, "commit": commit}


def _manifest(
    store: GitStore,
    root: Path,
    prefix: str,
    head: dict[str, str | None],
    session: Session,
    use_cache: bool,
) -> dict[str, Any]:
    digests: dict[str, dict[str, str]] = {}
    error: str | None = "HEAD names no commit"
    registry = None
    if head["commit"] is not None:
        cache = session.cache_for(root, use_cache and store.workdir is not None)
        snap = snapshot_at(store, head["commit"], prefix, root, session, cache)
        digests, error = config_digests(snap)
        registry = schema_registry(snap)
        cache.flush()
    return {
        "format": FORMAT,
        "version": VERSION,
        "cfgctl": __version__,
        "prefix": prefix,
        "head": head,
        "schemas": registry,
        "pairs": digests,
        "pairs_error": error,
        "configuration": total_digest(digests),
    }
