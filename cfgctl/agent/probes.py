"""Telling a service and asking it how it is: reload commands, signals and POSTs, and health
probes, each with a total deadline.

    reload_service(target.reload, target)      # DeliveryError when the service cannot be told
    check_health(target.health, target)        # DeliveryError when it is not well in time

A deadline covers the whole exchange, not one read: an HTTP endpoint that sends a byte a
second is cut off at its timeout, and a command still running then is killed with its whole
process group (its children too). When the agent must stop (`STOPPING.abort()`, at the end of
SIGTERM's grace period), whatever runs is ended the same way and `Aborted` is raised: the
target stays marked in flight, and is reloaded and checked again at the next start.

Errors never quote a command's output: it may hold the configuration's secrets.
"""

from __future__ import annotations

import http.client
import logging
import os
import signal
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from cfgctl.agent.config import Health, Reload, Target
from cfgctl.agent.deliver import DeliveryError
from cfgctl.deadline import shut

__all__ = ["STOPPING", "Aborted", "Stopping", "check_health", "reload_service", "run_command"]

log = logging.getLogger("cfgctl.agent")


class Aborted(BaseException):
    """The agent is stopping: what ran was ended. Not an `Exception`, so that no handler of
    delivery errors takes it for a failed delivery (which would roll back and never retry)."""


class Stopping:
    """The process-wide switch that ends every running probe and child process (signals are
    per process, and so is this)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._enders: dict[int, Callable[[], None]] = {}
        self._next = 0

    @property
    def aborted(self) -> bool:
        return self._event.is_set()

    def reset(self) -> None:
        with self._lock:
            self._event.clear()

    def abort(self) -> None:
        """End everything that runs now, and what would start later."""
        with self._lock:
            self._event.set()
            enders = list(self._enders.values())
        for end in enders:
            with suppress(OSError):
                end()

    def sleep(self, seconds: float) -> None:
        """Sleep, or raise `Aborted` as soon as the agent must stop."""
        if self._event.wait(max(0.0, seconds)):
            raise Aborted

    def check(self) -> None:
        if self._event.is_set():
            raise Aborted

    @contextmanager
    def guard(self, end: Callable[[], None], seconds: float) -> Iterator[threading.Event]:
        """Call `end` after `seconds`, or at once on abort; the event tells it ran at the
        deadline."""
        expired = threading.Event()

        def at_deadline() -> None:
            expired.set()
            with suppress(OSError):
                end()

        timer = threading.Timer(max(0.0, seconds), at_deadline)
        timer.daemon = True
        with self._lock:
            key, self._next = self._next, self._next + 1
            self._enders[key] = end
            aborted = self._event.is_set()
        if aborted:
            end()
        timer.start()
        try:
            yield expired
        finally:
            timer.cancel()
            with self._lock:
                del self._enders[key]


STOPPING = Stopping()


def reload_service(reload: Reload | None, target: Target) -> None:
    if reload is None:
        return
    timeout = reload.timeout.total_seconds()
    if reload.signal is not None and reload.pidfile is not None:
        _signal(reload.signal, reload.pidfile)
    elif reload.command:
        problem = run_command(reload.command, timeout, target, "reload")
        if problem is not None:
            raise DeliveryError(problem)
    elif reload.http:
        status = http_request("POST", reload.http, timeout)
        if isinstance(status, str):
            raise DeliveryError(f"reload POST {reload.http} failed: {status}")
        if not 200 <= status < 300:
            raise DeliveryError(f"reload POST {reload.http} answered {status}")


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


def _kill_group(pgid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_command(argv: tuple[str, ...], timeout: float, target: Target, what: str) -> str | None:
    """Run `argv` in its own process group; the problem, or None when it exited 0 in time.
    At the deadline (or on abort) the whole group is killed."""
    STOPPING.check()
    env = {
        **os.environ,
        "CFGCTL_SERVICE": target.service,
        "CFGCTL_ENV": target.env,
        "CFGCTL_PATH": str(target.path),
    }
    try:
        # Output to /dev/null: a pipe would make us wait for a daemon the command leaves running
        # (an init-style restart), and the output may quote the configuration.
        proc = subprocess.Popen(
            list(argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: killed whole at the deadline
        )
    except FileNotFoundError:
        return f"{what} command not found: {argv[0]}"
    except OSError as exc:  # not executable, no shebang line
        return f"{what} command {argv[0]}: {exc.strerror or exc}"
    with STOPPING.guard(lambda: _kill_group(proc.pid), timeout) as expired:
        returncode = proc.wait()
    if STOPPING.aborted:
        _kill_group(proc.pid)
        raise Aborted
    if expired.is_set():
        _kill_group(proc.pid)  # what the leader left behind when it exited at the deadline
        return f"{what} command did not finish within {timeout:g} s (its process group killed)"
    if returncode != 0:
        return f"{what} command {argv[0]} exited {returncode}"
    return None


def http_request(method: str, url: str, timeout: float) -> int | str:
    """The status of `method url` (empty body), or the problem; the whole exchange (connect,
    request, status line, headers and body) ends within `timeout`."""
    STOPPING.check()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"not an http(s) URL: {url}"
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    deadline = time.monotonic() + timeout
    conn = kind(parts.hostname, parts.port, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query

    try:
        with STOPPING.guard(lambda: shut(conn), timeout) as expired:
            try:
                conn.request(method, path, body=b"" if method == "POST" else None)
                response = conn.getresponse()
                response.read(64 * 1024)  # bounded: an endless body does not hold us either
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                STOPPING.check()
                if expired.is_set() or time.monotonic() >= deadline:
                    return f"no complete answer within {timeout:g} s"
                return str(getattr(exc, "strerror", None) or exc or type(exc).__name__)
        STOPPING.check()
        return status
    finally:
        conn.close()


def _probe(health: Health, target: Target, timeout: float) -> str | None:
    """One health probe: None when healthy, else what is wrong."""
    if health.command:
        return run_command(health.command, timeout, target, "health")
    assert health.http is not None
    status = http_request("GET", health.http, timeout)
    if isinstance(status, str):
        return f"GET {health.http}: {status}"
    return None if 200 <= status < 300 else f"GET {health.http} answered {status}"


def check_health(health: Health | None, target: Target) -> None:
    """Probe until healthy or `health.timeout` has passed; the last problem otherwise. No probe
    runs past the deadline."""
    if health is None:
        return
    STOPPING.sleep(health.delay.total_seconds())
    deadline = time.monotonic() + health.timeout.total_seconds()
    interval = max(0.01, health.interval.total_seconds())
    while True:
        remaining = deadline - time.monotonic()
        problem = _probe(health, target, max(0.05, min(remaining, 5.0)))
        if problem is None:
            return
        if time.monotonic() + interval >= deadline:
            raise DeliveryError(
                f"health check failed for {health.timeout.total_seconds():g} s: {problem}"
            )
        STOPPING.sleep(interval)
