"""Delivering one target: write the file atomically, tell the service, check its health, and
put the last good file back when it hurts.

    backups = Backups(state_dir / "backups")
    write_target(target, data, backups)        # keeps mode and owner; remembers the old file
    reload_service(target.reload)               # DeliveryError when the service cannot be told
    check_health(target.health)                 # DeliveryError when it is not well in time
    restore(target, backups)                    # the last good file back (or none, as before)

Errors never quote the file's content: it may hold decrypted secrets.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from cfgctl.agent.config import Health, Reload, Target
from cfgctl.errors import CfgctlError
from cfgctl.repo.fsutil import atomic_write

__all__ = ["Backups", "DeliveryError", "check_health", "reload_service", "restore", "write_target"]


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
