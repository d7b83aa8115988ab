"""A total deadline for an HTTP exchange, not a per-read one.

A socket timeout bounds each read: a server that sends one byte a second never trips it. Inside a
`Deadline`, every connection opened (or taken from a pool) in this thread is registered, and when
the time is up their sockets are shut down, so whatever blocks on them returns at once.

    with Deadline(10.0) as deadline:          # what any HTTP client does in here is cut at 10 s
        ...
    answer = fetch(request, timeout=10.0, max_bytes=1 << 20)   # urllib: connect, send, status,
    answer.status, answer.headers, answer.body                  # headers and body within 10 s

`fetch` raises `DeadlineExceeded` (a `TimeoutError`, so an `OSError`) when the exchange did not
finish in time, and answers any HTTP status (an error status is an answer, not an exception).
`cfgctl.deadlineadapter` gives `requests` sessions (github3.py, etcd3gw) the same.
"""

from __future__ import annotations

import http.client
import socket
import threading
import urllib.error
import urllib.request
from contextlib import suppress
from dataclasses import dataclass
from email.message import Message
from types import TracebackType
from typing import Any

__all__ = ["Answer", "Deadline", "DeadlineExceeded", "Held", "current", "fetch", "held", "shut"]


class DeadlineExceeded(TimeoutError):
    """The exchange did not finish within its total deadline."""


_LOCAL = threading.local()


def shut(connection: Any) -> None:
    """Shut the socket of a connection (http.client's or urllib3's): a blocked read returns at
    once. Nothing when it has no socket (yet, or any more)."""
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class Deadline:
    """A total deadline for what this thread does inside the block; nestable (the innermost
    one registers the connections, each cut at its own time)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = max(0.0, seconds)
        self.expired = False
        self._lock = threading.Lock()
        self._held: list[Any] = []
        self._outer: Deadline | None = None
        self._timer = threading.Timer(self.seconds, self._expire)
        self._timer.daemon = True

    def hold(self, connection: Any) -> None:
        """Cut `connection` at the deadline; at once when it has passed already."""
        with self._lock:
            self._held.append(connection)
            expired = self.expired
        if expired:
            shut(connection)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            held = list(self._held)
        for connection in held:
            shut(connection)

    def __enter__(self) -> Deadline:
        self._outer, _LOCAL.deadline = current(), self
        self._timer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        _LOCAL.deadline = self._outer


def current() -> Deadline | None:
    """The innermost deadline of this thread, if any."""
    found: Deadline | None = getattr(_LOCAL, "deadline", None)
    return found


def held(connection: Any) -> Any:
    """Register `connection` with this thread's deadline (if any); returns it."""
    deadline = current()
    if deadline is not None:
        deadline.hold(connection)
    return connection


class Held:
    """Mixin for a connection class (http.client's, urllib3's): once connected, it is held by
    the thread's deadline (lent before the deadline and connected after it: cut at once)."""

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        held(self)


# --- urllib -----------------------------------------------------------------------------------


class _HTTPConnection(Held, http.client.HTTPConnection):
    pass


class _HTTPSConnection(Held, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPSConnection, req, context=self._context)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Message
    body: bytes  # at most max_bytes + 1 bytes: longer means "too long" to the caller


def fetch(request: urllib.request.Request, *, timeout: float, max_bytes: int) -> Answer:
    """`request` answered within `timeout` seconds in all (connect, send, status line, headers,
    body), or `DeadlineExceeded`; other failures raise what urllib raises (`URLError`,
    `OSError`, `http.client.HTTPException`). Any HTTP status is an answer."""
    late = f"timed out: no complete answer within {timeout:g} s"
    with Deadline(timeout) as deadline:
        try:
            answer = _exchange(request, timeout, max_bytes)
        except (OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None)
            if (
                deadline.expired
                or isinstance(exc, TimeoutError)
                or isinstance(reason, TimeoutError)
            ):
                raise DeadlineExceeded(late) from None
            raise
        if deadline.expired:  # a body cut short at the deadline reads as a short body
            raise DeadlineExceeded(late)
        return answer


def _exchange(request: urllib.request.Request, timeout: float, max_bytes: int) -> Answer:
    opener = urllib.request.build_opener(_HTTPHandler(), _HTTPSHandler())
    try:
        with opener.open(request, timeout=timeout) as response:
            return Answer(response.status, response.headers, response.read(max_bytes + 1))
    except urllib.error.HTTPError as exc:
        with exc:
            return Answer(exc.code, exc.headers, exc.read(max_bytes + 1))
