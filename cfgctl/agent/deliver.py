"""Delivering one target: write the file atomically, tell the service, check its health, and
put the last good file back when it hurts.

    backups = Backups(state_dir / "backups")
    write_target(target, data, backups)        # keeps mode and owner; remembers the old file
    # then probes.reload_service and probes.check_health (DeliveryError when they fail)
    restore(target, backups)                    # the last good file back (or none, as before)

Errors never quote the file's content: it may hold decrypted secrets.
"""

from __future__ import annotations

import logging
from pathlib import Path

from cfgctl.agent.config import Target
from cfgctl.errors import CfgctlError
from cfgctl.repo.fsutil import atomic_write

__all__ = ["Backups", "DeliveryError", "restore", "write_target"]


log = logging.getLogger("cfgctl.agent")


class DeliveryError(CfgctlError):
    """Writing, reloading or health-checking a target failed."""

    exit_code = 1


class Backups:
    """What each target's file held before the agent first wrote it, kept in the state folder
    (later good versions are rendered again from their commit). `None` content means "there was
    no file": rolling back to it removes the file."""

    ABSENT = b"\x00cfgctl:absent\x00"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, target: Target) -> Path:
        return self.folder / f"{target.key}.good"

    def has(self, target: Target) -> bool:
        return self._path(target).is_file()

    def get(self, target: Target) -> bytes | None:
        data = self._path(target).read_bytes()
        return None if data == self.ABSENT else data

    def put(self, target: Target, data: bytes | None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(self._path(target), self.ABSENT if data is None else data, mode=0o600)


def read_current(path: Path) -> bytes | None:
    """The file's bytes; None when it (or a folder on its way) does not exist."""
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise DeliveryError(f"cannot read {path}: {exc.strerror or exc}") from None


def write_target(target: Target, data: bytes, backups: Backups, *, secret: bool) -> None:
    """Write `data` to the target's file; the first time, remember what was there."""
    if not backups.has(target):
        backups.put(target, read_current(target.path))
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


def restore(target: Target, backups: Backups, last_good: bytes | None) -> bool:
    """Put the last good file back (`last_good`, else what was there before the agent's first
    write); False when there is nothing to go back to."""
    if last_good is None and not backups.has(target):
        return False
    data = last_good if last_good is not None else backups.get(target)
    try:
        if data is None:
            target.path.unlink(missing_ok=True)
        else:
            atomic_write(target.path, data)
    except OSError as exc:
        raise DeliveryError(f"cannot restore {target.path}: {exc.strerror or exc}") from None
    return True
