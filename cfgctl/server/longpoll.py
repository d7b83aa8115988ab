"""Reads that follow commits: one task watches the branch, every waiting request sleeps on one
event until the head moves.

    watcher = HeadWatcher(served.read_head, interval=0.1)
    watcher.start()                                  # in the app's lifespan
    view, changed = await wait_for_change(watcher, view_at, baseline_etag, seconds=60)

A waiting request costs a coroutine and a future, no thread: the `HeadWatcher` reads the branch
ref every `interval` seconds (one small file read), and when it moves it swaps in a fresh
`asyncio.Event` and sets the old one, waking every waiter at once. Each waiter then asks for the
view at the new head; `ServedRepo.once` computes it once for all of them (single flight, kept
by commit), so 10,000 waiters on one (service, env) cost one render per head.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cfgctl.errors import InputError
from cfgctl.repo.timespec import parse_duration
from cfgctl.server.problems import Problem
from cfgctl.server.repository import View

__all__ = ["HeadWatcher", "disconnected", "parse_wait", "wait_for_change"]

log = logging.getLogger("cfgctl.server")


class HeadWatcher:
    """The branch head, re-read every `interval` seconds by one background task."""

    def __init__(self, read_head: Callable[[], str | None], interval: float) -> None:
        self._read_head = read_head
        self.interval = interval
        head = read_head()
        if head is None:
            raise InputError("the branch to serve has no commit", hint="pass --branch NAME")
        self.head: str = head
        self.changed = asyncio.Event()  # set (and replaced) when the head moves
        self._task: asyncio.Task[None] | None = None
        self._failures = 0  # reads of the ref failed in a row (a deleted branch counts)
        self.waiting = 0  # long polls held now

    @property
    def healthy(self) -> bool:
        """False once the branch ref could not be read 3 times in a row (one torn read while
        git writes it is no outage)."""
        return self._failures < 3

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="head-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def poll(self) -> bool:
        """Read the ref once; wake the waiters and return True when the head moved."""
        try:
            head = self._read_head()
        except Exception as exc:  # noqa: BLE001  a torn ref write or a lock: keep the old head
            if not self._failures:
                log.warning("cannot read the branch head: %s", type(exc).__name__)
            self._failures += 1
            return False
        if head is None:  # the branch was deleted: keep serving its last head
            if not self._failures:
                log.warning("the served branch is gone; its last head is still served")
            self._failures += 1
            return False
        self._failures = 0
        if head == self.head:
            return False
        self.head = head
        woken, self.changed = self.changed, asyncio.Event()
        woken.set()
        return True

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.poll()


def parse_wait(text: str, limit: float) -> float:
    """`wait=60s` (or `500ms`, `2m`, a bare number of seconds) as seconds in (0, limit]."""
    try:
        seconds = float(text) if text.replace(".", "", 1).isdigit() else None
        if seconds is None:
            seconds = parse_duration(text).total_seconds()
    except InputError as exc:
        raise Problem.bad_request(f"wait={text!r}: {exc.message}", hint=exc.hint) from None
    if not 0 < seconds <= limit:
        raise Problem.bad_request(
            f"wait={text!r} is out of range",
            hint=f"wait between 1ms and {limit:g}s, e.g. wait=60s",
        )
    return seconds


async def disconnected(receive: Callable[[], Awaitable[Mapping[str, Any]]]) -> None:
    """Return once the client has gone (the ASGI server's `receive` says http.disconnect)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def wait_for_change(
    watcher: HeadWatcher,
    view_at: Callable[[str], Awaitable[View]],
    baseline: str | None,
    seconds: float,
    gone: Callable[[], Awaitable[object]] | None = None,
) -> tuple[View, bool]:
    """(the view at the head, True) as soon as it differs from the `baseline` ETag, or (the
    view, False) when `seconds` pass first, or when `gone` (the client went away) returns: a
    waiter whose client left ends at once rather than at the end of its wait."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    left = asyncio.ensure_future(gone()) if gone is not None else None
    watcher.waiting += 1
    try:
        while True:
            # Taken before the view is computed: a head that moves meanwhile has set it already.
            changed = watcher.changed
            view = await view_at(watcher.head)
            if view.etag != baseline:
                return view, True
            remaining = deadline - loop.time()
            if remaining <= 0 or not await _woken(changed, left, remaining):
                return view, False
    finally:
        watcher.waiting -= 1
        if left is not None:
            left.cancel()


async def _woken(
    changed: asyncio.Event, left: asyncio.Future[object] | None, within: float
) -> bool:
    """Whether `changed` is set within `within` seconds and before `left` is done."""
    woken = asyncio.ensure_future(changed.wait())
    waits: set[asyncio.Future[Any]] = {woken} if left is None else {woken, left}
    try:
        await asyncio.wait(waits, timeout=within, return_when=asyncio.FIRST_COMPLETED)
    finally:
        woken.cancel()
    return changed.is_set() and not (left is not None and left.done())
