"""Delivering one target: keep what is on disk, write the file atomically, tell the service,
check its health, and put back what was on disk when it hurts.

    backups = Backups(state_dir / "backups")
    before = backups.take(target)               # what is on disk now: bytes, mode, owner
    write_target(target, data, secret=False)    # atomically; keeps mode and owner
    # then probes.reload_service and probes.check_health (DeliveryError when they fail)
    restore(target, before, wrote)              # what was on disk back (for this target only)

Errors never quote the file's content: it may hold decrypted secrets.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cfgctl.agent.config import Target
from cfgctl.errors import CfgctlError
from cfgctl.repo.fsutil import atomic_write

__all__ = [
    "Backup",
    "Backups",
    "DeliveryError",
    "content_digest",
    "digest_of",
    "read_current",
    "restore",
    "write_target",
]


log = logging.getLogger("cfgctl.agent")


class DeliveryError(CfgctlError):
    """Writing, reloading or health-checking a target failed."""

    exit_code = 1


@dataclass(frozen=True)
class Backup:
    """What was on disk at a target's path right before an apply: the bytes (None: no file),
    mode and owner."""

    path: str
    data: bytes | None
    mode: int = 0o644
    uid: int = -1
    gid: int = -1


class Backups:
    """One backup per target, named by a digest of the target's absolute path (two paths never
    share one), taken right before each apply; a backup names its path, and is never restored
    to another."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def file(self, target: Target) -> Path:
        """Where the target's backup is kept."""
        key = hashlib.sha256(os.fsencode(str(target.path.absolute()))).hexdigest()
        return self.folder / f"{key}.bak"

    def take(self, target: Target) -> Backup:
        """Keep what is at the target's path now (atomically: whole or not at all)."""
        path = str(target.path.absolute())
        data = read_current(target.path)
        backup = Backup(path, data)
        if data is not None:
            st = target.path.stat()
            backup = Backup(path, data, st.st_mode & 0o7777, st.st_uid, st.st_gid)
        head = {"path": path, "absent": data is None, "mode": backup.mode}
        head |= {"uid": backup.uid, "gid": backup.gid}
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        body = json.dumps(head).encode() + b"\n" + (data or b"")
        # Renamed into place whole (a kill -9 leaves the old backup or the new one); the state's
        # in-flight marker is written after it, the same way.
        atomic_write(self.file(target), body, mode=0o600, sync_dir=False)
        return backup

    def get(self, target: Target) -> Backup | None:
        """The target's backup; None when there is none (or it belongs to another path)."""
        try:
            raw = self.file(target).read_bytes()
        except FileNotFoundError:
            return None
        line, _, data = raw.partition(b"\n")
        head = json.loads(line)
        if head.get("path") != str(target.path.absolute()):
            return None
        content = None if head.get("absent") else data
        return Backup(head["path"], content, int(head["mode"]), int(head["uid"]), int(head["gid"]))


def content_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def digest_of(path: Path) -> str | None:
    """The digest of the file's content; None when there is no file."""
    data = read_current(path)
    return None if data is None else content_digest(data)


def read_current(path: Path) -> bytes | None:
    """The file's bytes; None when it (or a folder on its way) does not exist."""
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise DeliveryError(f"cannot read {path}: {exc.strerror or exc}") from None


def write_target(target: Target, data: bytes, *, secret: bool) -> None:
    """Write `data` to the target's file atomically; an existing file keeps mode and owner."""
    mode = target.mode if target.mode is not None else (0o600 if secret else 0o644)
    try:
        atomic_write(target.path, data, mode=mode)
        # An existing file keeps its mode, but decrypted secrets are never left world-readable.
        current = target.path.stat().st_mode & 0o7777
        if secret and current & 0o007:
            target.path.chmod(current & ~0o007)
            log.warning("%s holds secrets now: access for others removed", target.path)
    except OSError as exc:
        raise DeliveryError(f"cannot write {target.path}: {exc.strerror or exc}") from None


def restore(target: Target, backup: Backup, wrote: str) -> bool:
    """Put back what was on disk before the apply (content, mode, owner). A file that was not
    there is removed only when it still holds what this apply wrote (digest `wrote`): the
    agent never deletes a file it did not create. False when nothing was changed."""
    path = target.path
    if backup.path != str(path.absolute()):  # never another target's content
        raise DeliveryError(f"the backup of {backup.path} is not {path}'s")
    try:
        if backup.data is None:
            current = digest_of(path)
            if current is None:  # not there before, not there now
                return True
            if current != wrote:
                return False
            path.unlink()
            return True
        atomic_write(path, backup.data, mode=backup.mode)
        path.chmod(backup.mode)
        if (backup.uid, backup.gid) != (-1, -1):
            with contextlib.suppress(PermissionError):
                os.chown(path, backup.uid, backup.gid)
    except OSError as exc:
        raise DeliveryError(f"cannot restore {path}: {exc.strerror or exc}") from None
    return True
