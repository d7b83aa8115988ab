"""`watch`: a configuration reloaded in a background thread when its file changes.

    def resize(old: Settings, new: Settings, changed: list[str]) -> None:
        pool.resize(new.db.pool_size)

    watcher = watch("config.yaml", Settings, on_change=resize, keys=["db.*"])
    watcher.current.db.pool_size   # the newest valid configuration, a plain frozen object

- The first load is synchronous: `watch` raises `ConfigError` when the file is invalid then.
- A change is read and validated before anything is swapped. An invalid update keeps the last
  good configuration, sets `last_error`, calls `on_error(exc)` and logs a warning (logger
  `cfgctl.sdk`); nothing is raised in the thread. The next valid update recovers.
- The swap is one assignment of a reference to an immutable object: a reader gets the old
  configuration or the new one, never a mix.
- `on_change(old, new, changed)` runs in the watcher's thread, after the swap, only when a changed
  key path matches a glob of `keys` (all changes when `keys` is None; `db` also matches
  `db.pool_size`). Its exceptions are logged, never fatal. It runs in a span `sdk.reload` that
  continues the trace of the agent's delivery of that content (cfgctl/sdk/tracing.py).
- The file's folder is watched, not the file: a file replaced by a rename (as `cfgctl` and most
  editors write), and Kubernetes' ConfigMap volumes (a `..data` symlink swapped) are seen. The
  file's stat is also checked every `poll_ms`, in case an event is missed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

import watchfiles

from cfgctl.errors import CfgctlError, EnvError, InputError
from cfgctl.sdk.changes import changed_paths, matches
from cfgctl.sdk.files import format_of, parse_text, read_bytes
from cfgctl.sdk.tracing import run_traced, traceparent_of_file
from cfgctl.sdk.typed import adapter, convert, plain

__all__ = ["Watcher", "watch"]

T = TypeVar("T")
log = logging.getLogger("cfgctl.sdk")

OnChange = Callable[[T, T, list[str]], object]
OnError = Callable[[CfgctlError], object]
_Signature = tuple[int, int, int] | None


def _signature(path: Path) -> _Signature:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class Watcher(Generic[T]):
    """A configuration file kept loaded: `current` is always its newest valid version.

    `current` is a plain attribute (reading it costs what reading any attribute costs; a property
    would cost 4x) that only the watcher may assign. Use it as a context manager or call `stop()`.
    """

    current: T
    """The newest valid configuration: an instance of the model, immutable."""
    last_error: CfgctlError | None
    """Why the latest update was rejected; None after a valid one."""
    reloads: int
    """How many updates were validated and swapped in."""
    failures: int
    """How many updates were rejected."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        model: type[T],
        *,
        on_change: OnChange[T] | None = None,
        keys: Iterable[str] | None = None,
        on_error: OnError | None = None,
        debounce_ms: int = 50,
        poll_ms: int = 250,
        format: str | None = None,
    ) -> None:
        adapter(model)
        if debounce_ms < 1 or poll_ms < 1:
            raise InputError(
                f"debounce_ms={debounce_ms} and poll_ms={poll_ms}: both must be at least 1",
                hint="the defaults are debounce_ms=50, poll_ms=250",
            )
        self._path = Path(path)
        self._model = model
        self._format = format or format_of(self._path)
        self._on_change = on_change
        self._on_error = on_error
        self._keys = [keys] if isinstance(keys, str) else None if keys is None else list(keys)
        self._debounce_ms = debounce_ms
        self._poll_ms = poll_ms
        self._folder = self._path.parent.resolve()
        self._file = self._folder / self._path.name  # a chdir later on must not lose it
        self._cond = threading.Condition()
        self._outcomes = 0
        self._stop = threading.Event()
        self.last_error = None
        self.reloads = 0
        self.failures = 0
        self._signature = _signature(self._file)
        self._raw: bytes | None = read_bytes(self._path)
        first = convert(parse_text(self._raw, self._format, str(self._path), model), model)
        object.__setattr__(self, "current", first)
        self._plain = plain(model, first)
        self._thread = threading.Thread(
            target=self._run, name=f"cfgctl-sdk-watch:{self._path.name}", daemon=True
        )
        self._thread.start()

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "current":
            raise AttributeError("Watcher.current is read-only: the watcher swaps it")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        state = "stopped" if self._stop.is_set() else "watching"
        return f"<Watcher {self._path} {state}, {self.reloads} reloads, {self.failures} failures>"

    def __enter__(self) -> Watcher[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def path(self) -> Path:
        """The file watched."""
        return self._path

    @property
    def outcomes(self) -> int:
        """Updates swapped in plus updates rejected: pass it as `since` to `wait_for_reload`."""
        return self._outcomes

    @property
    def running(self) -> bool:
        """True while the background thread watches the file."""
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching; the thread ends within ~50 ms. `current` stays readable."""
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def wait_for_reload(self, timeout: float = 5.0, *, since: int | None = None) -> bool:
        """Wait until an update was swapped in or rejected (and its callback has returned).

        Counts updates after this call, or after `since=watcher.outcomes` read earlier, which a
        test takes before writing the file so that a fast reload is not missed. True if one
        came, False after `timeout` seconds.
        """
        with self._cond:
            start = self._outcomes if since is None else since
            return self._cond.wait_for(lambda: self._outcomes > start, timeout)

    # --- the background thread ------------------------------------------------------------

    def _relevant(self, change: watchfiles.Change, path: str) -> bool:
        name = Path(path).name
        # Kubernetes updates a ConfigMap volume by swapping its `..data` symlink.
        return name == self._path.name or name.startswith("..")

    def _run(self) -> None:
        try:
            for changes in watchfiles.watch(
                self._folder,
                watch_filter=self._relevant,
                debounce=self._debounce_ms,
                step=max(1, min(50, self._debounce_ms)),
                stop_event=self._stop,
                rust_timeout=self._poll_ms,
                yield_on_timeout=True,
                recursive=False,
                raise_interrupt=False,
            ):
                # An empty set is a timeout: the stat check catches what no event announced,
                # such as a write made before the folder was watched.
                if changes or _signature(self._file) != self._signature:
                    self._reload()
        except Exception as exc:  # noqa: BLE001  the thread ends with a report, never a traceback
            error = EnvError(
                f"stopped watching {self._path}: {exc}",
                hint="the folder may have been removed; call watch() again",
            )
            log.error("%s", error)
            self.last_error = error
            self._finish()

    def _reload(self) -> None:
        failure: CfgctlError | None = None
        raw: bytes | None = None
        for _ in range(3):
            self._signature = _signature(self._file)
            raw = None
            try:
                raw = read_bytes(self._file)
                if raw == self._raw:  # touched, or another file's event: nothing new
                    return
                new = convert(
                    parse_text(raw, self._format, str(self._path), self._model), self._model
                )
            except CfgctlError as exc:
                failure = exc
            else:
                self._raw = raw
                self._accept(new)
                return
            # A writer may be half-way (a file truncated, or deleted before it is written again):
            # look again once it had time to finish, before reporting anything.
            if self._stop.wait(self._debounce_ms / 1000):
                return
            if _signature(self._file) == self._signature:
                break
        assert failure is not None
        self._raw = raw  # the same broken bytes again are no new update
        self._reject(failure)

    def _reject(self, exc: CfgctlError) -> None:
        log.warning("%s: update rejected, keeping the last good configuration: %s", self._path, exc)
        self.last_error = exc
        self.failures += 1
        if self._on_error is not None:
            try:
                self._on_error(exc)
            except Exception:  # the user's callback must not end the watcher
                log.exception("%s: the on_error callback failed", self._path)
        self._finish()

    def _accept(self, new: T) -> None:
        new_plain = plain(self._model, new)
        changed = changed_paths(self._plain, new_plain)
        old = self.current
        object.__setattr__(self, "current", new)  # the swap: one reference, atomic
        self._plain = new_plain
        if self.last_error is not None:
            log.info("%s: valid again, reloaded", self._path)
        self.last_error = None
        self.reloads += 1
        log.info("%s: reloaded, changed: %s", self._path, ", ".join(changed) or "nothing")
        if changed and self._on_change is not None and matches(changed, self._keys):
            # In a span of the delivery's trace (the agent leaves it beside the file).
            traceparent, commit = traceparent_of_file(self._file, self._raw)
            attrs: dict[str, str | int | list[str]] = {"cfgctl.path": str(self._path)}
            attrs["cfgctl.changed"] = changed[:50]
            try:
                run_traced(
                    self._on_change,
                    (old, new, changed),
                    traceparent=traceparent,
                    commit=commit,
                    attributes=attrs,
                )
            except Exception:  # the user's callback must not end the watcher
                log.exception("%s: the on_change callback failed", self._path)
        self._finish()

    def _finish(self) -> None:
        with self._cond:
            self._outcomes += 1
            self._cond.notify_all()


def watch(
    path: str | os.PathLike[str],
    model: type[T],
    *,
    on_change: OnChange[T] | None = None,
    keys: Iterable[str] | None = None,
    on_error: OnError | None = None,
    debounce_ms: int = 50,
    poll_ms: int = 250,
    format: str | None = None,
) -> Watcher[T]:
    """Load `path` into `model` now, then keep `watcher.current` up to date in a daemon thread.

    `keys`: globs of dotted key paths (`["db.*", "features"]`); `on_change` is called only when a
    changed path matches one. `on_error(exc)` is called with each rejected update's error.
    Raises `ConfigError`/`InputError` when the file is missing or invalid at the start.
    """
    return Watcher(
        path,
        model,
        on_change=on_change,
        keys=keys,
        on_error=on_error,
        debounce_ms=debounce_ms,
        poll_ms=poll_ms,
        format=format,
    )
