"""`watch_etcd`: a service's configuration read straight from etcd (`cfgctl fleet publish`) and
kept up to date by a watch, with the same typed objects and callbacks as `watch` and `remote`.

    watcher = watch_etcd(["http://10.0.0.1:2379", "http://10.0.0.2:2379"], "payments", "prod",
                         Settings, on_change=resize)
    watcher.current.db.pool_size

- The first read is synchronous: the head, the pair's index shard and the pair, read at one
  revision and checked against the digests the head lists (cfgctl.fleet.reader). No member
  answers: `EnvError`; no such pair at the head: `InputError`; the model refuses: `ConfigError`.
- Then a thread watches the pair's own key, so a service wakes only when its configuration
  changes (not on every publish of the fleet). A pair written by a publish still running is
  taken only once the head that lists it is written: a half-published commit is never seen.
  A stream that breaks (a member lost) resumes on the next member from the last revision; a
  revision compacted away is read whole again.
- A `.secrets.yaml` layer is decrypted in memory with the real `sops` (the service's age key
  from SOPS_AGE_KEY_FILE) and merged in its place; without a key that opens it the read fails
  (`EnvError`), never a configuration without its secrets.
- An invalid update keeps the last good configuration (`last_error`, `on_error`), as `watch`.

Only etcd's JSON gateway is spoken (through the fleet's light client): no Git, no JSON Schema.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any, TypeVar

from cfgctl.errors import CfgctlError, EnvError, InputError
from cfgctl.fleet.documents import PairDoc, merge
from cfgctl.fleet.etcd import Compacted, Etcd
from cfgctl.fleet.layout import Layout
from cfgctl.fleet.reader import FleetView
from cfgctl.sdk.files import Parsed
from cfgctl.sdk.remote import RemoteWatcher
from cfgctl.sdk.typed import adapter, convert, plain
from cfgctl.sdk.watch import OnChange, OnError

__all__ = ["EtcdWatcher", "watch_etcd"]

T = TypeVar("T")
log = logging.getLogger("cfgctl.sdk")

_RETRY = 0.5  # seconds before a broken watch is taken up again


def _config_of(pair: PairDoc, source: str) -> dict[str, Any]:
    """The pair's effective configuration, its secrets layers decrypted in memory."""
    if not any(layer.kind == "secrets" for layer in pair.layers):
        return pair.config
    from cfgctl.repo.sops import decrypt
    from cfgctl.repo.yamlio import parse

    data: Any = {}
    for layer in pair.layers:
        if layer.kind == "secrets":
            part = decrypt(layer.text.encode(), f"{source} {layer.path}")
        else:
            part = parse(layer.text.encode(), layer.path).data
        if isinstance(part, dict):
            part.pop("sops", None)
            data = merge(data, part)
    return data if isinstance(data, dict) else {}


class EtcdWatcher(RemoteWatcher[T]):
    """A configuration kept loaded from etcd: `current`, `last_error`, `reloads`, `failures`,
    `commit`, `wait_for_reload()`, `stop()` as `RemoteWatcher`; `traceparent`, the trace of the
    publish that brought `current` (empty when none)."""

    def __init__(
        self,
        endpoints: list[str] | str,
        service: str,
        env: str,
        model: type[T],
        *,
        prefix: str = "/cfgctl",
        on_change: OnChange[T] | None = None,
        keys: Iterable[str] | None = None,
        on_error: OnError | None = None,
        timeout: float = 5.0,
    ) -> None:
        adapter(model)
        self._etcd = Etcd(endpoints, timeout=timeout)
        self._layout = Layout.of(prefix)
        self._service, self._env = service, env
        self._model, self._token, self._reveal, self._cache = model, None, False, None
        self._source = f"etcd {self._layout.prefix} {service}@{env}"
        self._on_change, self._on_error = on_change, on_error
        self._keys = [keys] if isinstance(keys, str) else None if keys is None else list(keys)
        self._cond = threading.Condition()
        self._outcomes = 0
        self._stop = threading.Event()
        self.last_error, self.reloads, self.failures = None, 0, 0
        self.traceparent = ""
        self._revision = 0
        data, commit = self._read()
        value = convert(Parsed(self._source, "", "json", data), self._model)
        object.__setattr__(self, "current", value)
        self._plain, self.commit = plain(self._model, value), commit
        self._thread = threading.Thread(
            target=self._run, name=f"cfgctl-sdk-etcd:{service}@{env}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        super().stop(timeout)
        self._etcd.close()

    def _read(self) -> tuple[dict[str, Any], str]:
        """The pair at the head, checked; (configuration, commit)."""
        view = FleetView.read(self._etcd, self._layout)
        if view is None:
            raise EnvError(
                f"{self._source}: nothing is published",
                hint="publish a commit: `cfgctl fleet publish --etcd URL`",
            )
        pair = view.pair(self._env, self._service)
        if pair is None:
            raise InputError(
                f"{self._source}: no such service and environment at {view.head.commit[:12]}",
                hint="check the names against cfgctl.yaml of the published commit",
            )
        self._revision = max(self._revision, view.revision)
        self.traceparent = view.head.traceparent
        return _config_of(pair, self._source), view.head.commit

    def _complete_after(self, revision: int) -> None:
        """Wait until the head is written at or after `revision` (the publish that wrote the
        pair is over), or the watcher stops."""
        head = self._layout.commit  # written with the head, and small
        while not self._stop.is_set():
            found = self._etcd.range(head)
            if found.kvs and found.kvs[0].mod_revision >= revision:
                return
            for event in self._etcd.watch(head, start_revision=max(revision, 1)):
                if event.mod_revision >= revision:
                    return

    def _run(self) -> None:
        key = self._layout.config(self._env, self._service)
        while not self._stop.is_set():
            try:
                for event in self._etcd.watch(key, start_revision=self._revision + 1):
                    if self._stop.is_set():
                        return
                    self._complete_after(event.mod_revision)
                    self._refresh()
            except Compacted:
                self._refresh()  # what changed meanwhile is read whole
            except CfgctlError as exc:
                if self._stop.is_set():
                    return
                self.last_error = exc
                log.warning("%s: %s (again in %g s)", self._source, exc.message, _RETRY)
            self._stop.wait(_RETRY)

    def _refresh(self) -> None:
        try:
            data, commit = self._read()
        except CfgctlError as exc:
            self.last_error = exc
            self.failures += 1
            self._callback(self._on_error, exc)
            self._finish()
            return
        if commit != self.commit:
            self._update(data, commit)


def watch_etcd(
    endpoints: list[str] | str,
    service: str,
    env: str,
    model: type[T],
    *,
    prefix: str = "/cfgctl",
    on_change: OnChange[T] | None = None,
    keys: Iterable[str] | None = None,
    on_error: OnError | None = None,
    timeout: float = 5.0,
) -> EtcdWatcher[T]:
    """Read `service` in `env` from etcd into `model` now, then keep `watcher.current` up to
    date with a watch of its key (see the module's docstring)."""
    return EtcdWatcher(
        endpoints, service, env, model, prefix=prefix, on_change=on_change, keys=keys,
        on_error=on_error, timeout=timeout,
    )  # fmt: skip
