"""`remote`: a service's configuration read from a cfgctl server and kept up to date with its
long poll, with the same typed objects and callbacks as `watch`.

    watcher = remote("https://cfg.internal", "payments", "prod", Settings,
                     token=os.environ["CFGCTL_TOKEN"], cache="/var/cache/payments/config.json")
    watcher.current.db.pool_size        # the newest valid configuration

- The first read is synchronous (`GET /api/v1/config/{service}/{env}`). When the server cannot
  be reached then, the cache file (the last configuration read, with its commit) is loaded
  instead, `last_error` says why, and the watcher keeps trying: a service starts while the
  server is down. Neither server nor cache: `EnvError`. A configuration the model refuses:
  `ConfigError`, as `load` raises it.
- Then a thread holds `?wait=60s&after=COMMIT` requests: the server answers as soon as a commit
  changes this configuration (200) or when the wait ends (304, asked again at once). A new
  configuration is validated against the model before it is swapped in; an invalid one keeps
  the last good one (`last_error`, `on_error`), exactly as `watch` does with a file. A server
  that fails is asked again after 1, 2, 4... up to 30 s.
- The cache is written atomically after each good read (mode 0600). The server masks secrets
  unless the token may reveal them and `reveal=True`: a cache of revealed values must be on a
  memory-backed filesystem (tmpfs: /run, /dev/shm), else `InputError`: a secret never lands
  on a disk.
- `stop()` ends the thread; a long poll in flight is abandoned (the thread is a daemon and
  swaps nothing after `stop`).

Only the standard library speaks HTTP here: the SDK stays light for the services that use it.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Generic, TypeVar

from cfgctl.deadline import Answer, fetch
from cfgctl.errors import CfgctlError, EnvError, InputError
from cfgctl.sdk.changes import changed_paths, matches
from cfgctl.sdk.files import Parsed
from cfgctl.sdk.tracing import run_traced
from cfgctl.sdk.typed import adapter, convert, plain
from cfgctl.sdk.watch import OnChange, OnError

__all__ = ["RemoteWatcher", "remote"]

MAX_BYTES = 16 << 20  # one service's configuration: far below; a larger answer is refused

T = TypeVar("T")
log = logging.getLogger("cfgctl.sdk")

_MEMORY_FS = {"tmpfs", "ramfs"}
MAX_BACKOFF = 30.0


def _memory_backed(path: Path) -> bool:
    """Whether `path`'s folder is on tmpfs or ramfs (read from /proc/self/mounts)."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return False
    folder = str(path.resolve().parent)
    best, kind = "", ""
    for line in mounts:
        fields = line.split()
        inside = len(fields) >= 3 and (
            folder == fields[1] or folder.startswith(fields[1].rstrip("/") + "/")
        )
        if inside and len(fields[1]) > len(best):
            best, kind = fields[1], fields[2]
    return kind in _MEMORY_FS


class _Answer:
    def __init__(self, status: int, data: Any, commit: str | None) -> None:
        self.status, self.data, self.commit = status, data, commit


class RemoteWatcher(Generic[T]):
    """A configuration kept loaded from a cfgctl server: `current` is its newest valid version.
    The same attributes as `Watcher`: current, last_error, reloads, failures, outcomes,
    wait_for_reload(), stop(); and `commit`, the commit `current` was read at."""

    current: T
    last_error: CfgctlError | None
    reloads: int
    failures: int
    commit: str | None

    def __init__(
        self,
        url: str,
        service: str,
        env: str,
        model: type[T],
        *,
        token: str | None = None,
        cache: str | os.PathLike[str] | None = None,
        reveal: bool = False,
        on_change: OnChange[T] | None = None,
        keys: Iterable[str] | None = None,
        on_error: OnError | None = None,
        wait_seconds: float = 60.0,
        timeout: float = 10.0,
    ) -> None:
        adapter(model)
        if not url.startswith(("http://", "https://")):
            raise InputError(f"{url!r} is no http(s) URL", hint="e.g. https://cfg.internal")
        self._model, self._token, self._reveal = model, token, reveal
        self._cache = Path(cache) if cache is not None else None
        if self._cache is not None and reveal and not _memory_backed(self._cache):
            raise InputError(
                f"{self._cache}: a cache of revealed secrets must be on a memory-backed filesystem",
                hint="put it under /run or /dev/shm (tmpfs), or read without reveal",
            )
        quoted = "/".join(urllib.parse.quote(p, safe="") for p in (service, env))
        self._endpoint = f"{url.rstrip('/')}/api/v1/config/{quoted}"
        self._source = f"{url.rstrip('/')} {service}@{env}"
        self._on_change, self._on_error = on_change, on_error
        self._keys = [keys] if isinstance(keys, str) else None if keys is None else list(keys)
        self._wait, self._timeout = wait_seconds, timeout
        self._cond = threading.Condition()
        self._outcomes = 0
        self._stop = threading.Event()
        self.last_error, self.reloads, self.failures = None, 0, 0
        self._start()
        self._thread = threading.Thread(
            target=self._run, name=f"cfgctl-sdk-remote:{service}@{env}", daemon=True
        )
        self._thread.start()

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "current":
            raise AttributeError("RemoteWatcher.current is read-only: the watcher swaps it")
        object.__setattr__(self, name, value)

    def __enter__(self) -> RemoteWatcher[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def outcomes(self) -> int:
        return self._outcomes

    def stop(self, timeout: float = 1.0) -> None:
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def wait_for_reload(self, timeout: float = 5.0, *, since: int | None = None) -> bool:
        """As `Watcher.wait_for_reload`: True once an update was swapped in or rejected."""
        with self._cond:
            start = self._outcomes if since is None else since
            return self._cond.wait_for(lambda: self._outcomes > start, timeout)

    # --- reading ------------------------------------------------------------------------------

    def _start(self) -> None:
        try:
            answer = self._get(None)
        except EnvError as exc:
            cached = self._read_cache()
            if cached is None:
                raise EnvError(
                    f"cannot read the configuration from {self._source}: {exc.message}",
                    hint="start the server, or give cache= a file from an earlier read",
                ) from None
            data, commit = cached
            log.warning("%s: %s; started from the cache at %s", self._source, exc.message, commit)
            self.last_error = exc
            self._set_first(data, commit, f"{self._cache} (cache)")
            return
        self._set_first(answer.data, answer.commit, self._source)
        self._write_cache(answer.data, answer.commit)

    def _set_first(self, data: Any, commit: str | None, source: str) -> None:
        value = convert(Parsed(source, "", "json", data), self._model)
        object.__setattr__(self, "current", value)
        self._plain = plain(self._model, value)
        self.commit = commit

    def _get(self, after: str | None) -> _Answer:
        query: dict[str, str] = {}
        if self._reveal:
            query["reveal"] = "true"
        if after is not None:
            query |= {"wait": f"{self._wait:g}s", "after": after}
        url = self._endpoint + ("?" + urllib.parse.urlencode(query) if query else "")
        headers = {"Accept": "application/json", "User-Agent": "cfgctl-sdk"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(url, headers=headers)
        timeout = self._timeout + (self._wait if after is not None else 0)
        try:  # the whole exchange within `timeout` (a server dripping bytes is cut off)
            answer = fetch(request, timeout=timeout, max_bytes=MAX_BYTES)
        except (OSError, http.client.HTTPException) as exc:
            raise EnvError(f"{getattr(exc, 'reason', exc)}") from None
        if answer.status == 304:
            return _Answer(304, None, after)
        if answer.status != 200:
            raise EnvError(f"the server answered HTTP {answer.status}: {_detail(answer)}")
        if len(answer.body) > MAX_BYTES:
            raise EnvError(f"the server's answer is larger than {MAX_BYTES >> 20} MiB")
        try:
            body = json.loads(answer.body)
        except ValueError as exc:
            raise EnvError(f"the server's answer is not JSON: {exc}") from None
        commit = answer.headers.get("Cfgctl-Commit")
        if not isinstance(body, dict) or not isinstance(body.get("config"), dict):
            raise EnvError("the server's answer holds no configuration (is it a cfgctl server?)")
        return _Answer(200, body["config"], commit)

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                answer = self._get(self.commit or "HEAD")
            except EnvError as exc:
                if self._stop.is_set():
                    return
                self.last_error = exc
                log.warning("%s: %s (again in %g s)", self._source, exc.message, backoff)
                self._stop.wait(backoff)
                backoff = min(MAX_BACKOFF, backoff * 2)
                continue
            backoff = 1.0
            if answer.status == 200 and not self._stop.is_set():
                self._update(answer.data, answer.commit)

    def _update(self, data: Any, commit: str | None) -> None:
        """Take a new configuration read at `commit`: validated, swapped in, cached, told."""
        try:
            new = convert(Parsed(self._source, "", "json", data), self._model)
        except CfgctlError as exc:
            log.warning("%s: update rejected, keeping the last good configuration: %s",
                        self._source, exc)  # fmt: skip
            self.last_error, self.commit = exc, commit
            self.failures += 1
            self._callback(self._on_error, exc)
            self._finish()
            return
        new_plain = plain(self._model, new)
        changed = changed_paths(self._plain, new_plain)
        old = self.current
        object.__setattr__(self, "current", new)
        self._plain, self.commit, self.last_error = new_plain, commit, None
        self.reloads += 1
        self._write_cache(data, commit)
        if changed and self._on_change is not None and matches(changed, self._keys):
            # In a span of the change's trace: watch_etcd has it from the etcd document.
            parent = getattr(self, "traceparent", None) or None
            attrs: dict[str, str | int | list[str]] = {"cfgctl.source": self._source}
            attrs["cfgctl.changed"] = changed[:50]
            self._callback(
                run_traced,
                self._on_change,
                (old, new, changed),
                traceparent=parent,
                commit=commit,
                attributes=attrs,
            )
        self._finish()

    def _callback(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        if fn is None:
            return
        try:
            fn(*args, **kwargs)
        except Exception:  # the user's callback must not end the watcher
            log.exception("%s: a callback failed", self._source)

    def _finish(self) -> None:
        with self._cond:
            self._outcomes += 1
            self._cond.notify_all()

    # --- the cache ----------------------------------------------------------------------------

    def _read_cache(self) -> tuple[Any, str | None] | None:
        if self._cache is None:
            return None
        try:
            saved = json.loads(self._cache.read_text(encoding="utf-8"))
            return saved["config"], saved.get("commit")
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_cache(self, data: Any, commit: str | None) -> None:
        if self._cache is None:
            return
        body = json.dumps({"commit": commit, "config": data}, sort_keys=True).encode()
        try:
            _atomic_write(self._cache, body)
        except OSError as exc:
            log.warning("%s: cannot write the cache %s: %s", self._source, self._cache, exc)


def _atomic_write(path: Path, data: bytes) -> None:
    """Whole or not at all, mode 0600 (the SDK keeps to the standard library for files)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def _detail(answer: Answer) -> str:
    """The problem document's title and detail, when the server sent one."""
    reason = http.client.responses.get(answer.status, "error")
    try:
        problem = json.loads(answer.body)
        return str(problem.get("detail") or problem.get("title") or reason)
    except (ValueError, AttributeError):
        return reason


def remote(
    url: str,
    service: str,
    env: str,
    model: type[T],
    *,
    token: str | None = None,
    cache: str | os.PathLike[str] | None = None,
    reveal: bool = False,
    on_change: OnChange[T] | None = None,
    keys: Iterable[str] | None = None,
    on_error: OnError | None = None,
    wait_seconds: float = 60.0,
) -> RemoteWatcher[T]:
    """Read `service` in `env` from the cfgctl server at `url` into `model` now, then keep
    `watcher.current` up to date with the server's long poll (see the module's docstring)."""
    return RemoteWatcher(
        url, service, env, model, token=token, cache=cache, reveal=reveal,
        on_change=on_change, keys=keys, on_error=on_error, wait_seconds=wait_seconds,
    )  # fmt: skip
