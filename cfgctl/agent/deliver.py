"""Delivering one target: keep what is on disk, write the file atomically, tell the service,
check its health, and put back what was on disk when it hurts.

    backups = Backups(state_dir / "backups")
    before = backups.take(target)               # what is on disk now: bytes, mode, owner
    write_target(target, data, secret=False)    # atomically; keeps mode and owner
    reload_service(target.reload, target)       # DeliveryError when the service cannot be told
    check_health(target.health, target)         # DeliveryError when it is not well in time
    restore(target, before, wrote)              # what was on disk back (for this target only)

Errors never quote the file's content: it may hold decrypted secrets.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cfgctl.agent.config import Health, Reload, Target
from cfgctl.errors import CfgctlError
from cfgctl.repo.fsutil import atomic_write

__all__ = [
    "Backup",
    "Backups",
    "DeliveryError",
    "check_health",
    "content_digest",
    "digest_of",
    "read_current",
    "reload_service",
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

    @property
    def digest(self) -> str | None:
        return None if self.data is None else content_digest(self.data)


class Backups:
    """One backup per target, named by a digest of the target's absolute path (two paths never
    share one), taken right before each apply; a backup names its path, and is never restored
    to another."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, target: Target) -> Path:
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
        atomic_write(self._file(target), body, mode=0o600, sync_dir=False)
        return backup

    def get(self, target: Target) -> Backup | None:
        """The target's backup; None when there is none (or it belongs to another path)."""
        try:
            raw = self._file(target).read_bytes()
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


def reload_service(reload: Reload | None, target: Target) -> None:
    if reload is None:
        return
    timeout = reload.timeout.total_seconds()
    if reload.signal is not None and reload.pidfile is not None:
        _signal(reload.signal, reload.pidfile)
    elif reload.command:
        _command(reload.command, timeout, target, "reload")
    elif reload.http:
        _post(reload.http, timeout)


def _signal(number: int, pidfile: Path) -> None:
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"cannot read a process id from {pidfile}: {exc}") from None
    if pid <= 1:  # 0 and -1 would signal whole process groups; 1 is init
        raise DeliveryError(f"{pidfile} holds {pid}, which is no service's process id")
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        raise DeliveryError(f"no process {pid} (from {pidfile}) to signal") from None
    except PermissionError:
        raise DeliveryError(f"not allowed to signal process {pid} (from {pidfile})") from None


def _command(argv: tuple[str, ...], timeout: float, target: Target, what: str) -> None:
    env = {
        **os.environ,
        "CFGCTL_SERVICE": target.service,
        "CFGCTL_ENV": target.env,
        "CFGCTL_PATH": str(target.path),
    }
    try:
        # Output to /dev/null: a pipe would make us wait for a daemon the command leaves running
        # (an init-style restart), and the output may quote the configuration.
        proc = subprocess.run(
            list(argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise DeliveryError(f"{what} command not found: {argv[0]}") from None
    except subprocess.TimeoutExpired:
        raise DeliveryError(f"{what} command did not finish within {timeout:g} s") from None
    except OSError as exc:  # not executable, no shebang line
        raise DeliveryError(f"{what} command {argv[0]}: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        raise DeliveryError(f"{what} command {argv[0]} exited {proc.returncode}")


def _post(url: str, timeout: float) -> None:
    request = urllib.request.Request(url, data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"reload POST {url} failed: {getattr(exc, 'reason', exc)}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"reload POST {url} answered {status}")


def _probe(health: Health, target: Target, timeout: float) -> str | None:
    """None when healthy, else what was wrong."""
    if health.command:
        try:
            _command(health.command, timeout, target, "health")
        except DeliveryError as exc:
            return exc.message
        return None
    assert health.http is not None
    try:
        with urllib.request.urlopen(health.http, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        return f"GET {health.http}: {getattr(exc, 'reason', exc)}"
    return None if 200 <= status < 300 else f"GET {health.http} answered {status}"


def check_health(health: Health | None, target: Target) -> None:
    """Probe until healthy or `health.timeout` has passed; the last problem otherwise."""
    if health is None:
        return
    time.sleep(health.delay.total_seconds())
    deadline = time.monotonic() + health.timeout.total_seconds()
    interval = max(0.01, health.interval.total_seconds())
    while True:
        remaining = deadline - time.monotonic()
        problem = _probe(health, target, max(0.1, min(remaining, 5.0)))
        if problem is None:
            return
        if time.monotonic() + interval >= deadline:
            raise DeliveryError(
                f"health check failed for {health.timeout.total_seconds():g} s: {problem}"
            )
        time.sleep(interval)
