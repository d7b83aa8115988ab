"""`cfgctl backup verify FILE`: a backup checked end to end, nothing written but scratch space.

    verified = verify_backup(Path("cfg.backup"))   # CheckFailed naming any mismatch
    verified.manifest, verified.steps               # what it holds; seconds per step

Every byte against its checksum (`cfgctl.operate.backupfile`), `git bundle verify` in an empty
repository (the bundle is sound and needs no other repository), the bundle unpacked (in memory),
its refs against the manifest's, no plaintext `.secrets.yaml` in its history, and every pair
rendered again from it to compare its digest. `restore` and `drill` run the same steps.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import CheckoutStrategy

from cfgctl.errors import CheckFailed, Location
from cfgctl.operate.backup import refuse_plaintext, scratch, snapshot_at
from cfgctl.operate.backupdigest import config_digests, differences, schema_registry
from cfgctl.operate.backupfile import BUNDLE, OpenedBackup, read_backup
from cfgctl.operate.backupgit import bundle_heads, fetch_bundle, verify_bundle
from cfgctl.repo.cache import Cache
from cfgctl.repo.gitstore import GitStore
from cfgctl.repo.session import Session
from cfgctl.repo.snapshot import Snapshot

__all__ = ["Unpacked", "Verified", "check_digests", "open_verified", "unpack", "verify_backup"]


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


def _cache(cache_root: Path | None, session: Session) -> Cache:
    return session.cache_for(cache_root) if cache_root is not None else Cache(None)


_OID = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_PREFIX = re.compile(r"^([^/\\]+/)*$")


def _sound_head(m: dict[str, Any]) -> bool:
    head, refs = m.get("head"), m.get("refs")
    if not (isinstance(head, dict) and isinstance(refs, dict)):
        return False
    commit, ref = head.get("commit"), head.get("ref")
    return (
        all(isinstance(k, str) and isinstance(v, str) and _OID.match(v) for k, v in refs.items())
        and commit == refs.get("HEAD")
        and (
            ref is None or (isinstance(ref, str) and ref.startswith("refs/heads/") and ref in refs)
        )
    )


def _sound_prefix(prefix: Any) -> bool:
    """'' or `a/b/`: a folder inside the repository (no `..`, `.git` or absolute path)."""
    if not (isinstance(prefix, str) and _PREFIX.match(prefix)):
        return False
    return not any(part in ("", ".", "..", ".git") for part in prefix.split("/")[:-1])


def _fields(opened: OpenedBackup) -> dict[str, Any]:
    """The manifest, once its fields have the types and forms cfgctl writes: a manifest with
    consistent checksums may still be forged."""
    m = opened.manifest
    pairs = m.get("pairs")
    ok = (
        _sound_head(m)
        and _sound_prefix(m.get("prefix"))
        and isinstance(pairs, dict)
        and all(isinstance(v, dict) for v in pairs.values())
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
    try:
        if head.get("ref") is None and head.get("commit"):
            repo.set_head(pygit2.Oid(hex=head["commit"]))
        if not bare and head.get("commit"):
            repo.checkout_head(strategy=CheckoutStrategy.FORCE)  # type: ignore[no-untyped-call]
    except (pygit2.GitError, KeyError, ValueError) as exc:
        raise CheckFailed(
            f"the bundle's HEAD cannot be checked out: {exc}",
            location=Location(str(opened.path)),
            hint="use another copy of the backup",
        ) from None
    return GitStore(repo)


def check_digests(
    opened: OpenedBackup, store: GitStore, root: Path, session: Session, cache: Cache
) -> Snapshot | None:
    """Render every pair again from the unpacked bundle; CheckFailed naming each mismatch.
    Returns the snapshot of HEAD (None without one)."""
    m = opened.manifest
    refuse_plaintext(store, Path(store.repo.path), "the bundle")
    digests: dict[str, dict[str, str]] = {}
    error: str | None = "HEAD names no commit"
    snap = None
    if m["head"].get("commit"):
        root = root / m["prefix"] if m["prefix"] else root
        snap = snapshot_at(store, m["head"]["commit"], m["prefix"], root, session, cache)
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
