"""An etcd v3 cluster through its JSON gateway (`/v3/...`), with `etcd3gw` as the HTTP client.

    etcd = Etcd(["http://127.0.0.1:2379", "http://127.0.0.1:22379"])
    found = etcd.range("/cfgctl/v1/head")             # Range(kvs, revision, count)
    etcd.txn(compare=[...], success=[put(k, v), delete(k)])
    for event in etcd.watch("/cfgctl/v1/head", start_revision=42): ...

Every call goes to one member and moves to the next when that one cannot be reached (a member
lost is a retry, not an error); `FleetUnreachable` (exit 3) only when none answers. Reads are
linearizable (etcd's default), so a member that comes back with old data never answers with it.
etcd3gw's own watcher hides errors and compaction: `watch` reads the gateway's stream itself.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cfgctl.errors import EnvError, InputError

__all__ = [
    "MAX_OPS",
    "MAX_REQUEST_BYTES",
    "Compacted",
    "Etcd",
    "EtcdRefused",
    "FleetUnreachable",
    "KeyValue",
    "Range",
    "WatchEvent",
    "absent",
    "delete",
    "parse_endpoints",
    "prefix_end",
    "put",
    "unchanged_since",
]

# etcd's defaults (--max-request-bytes, --max-txn-ops): a transaction stays under both.
MAX_REQUEST_BYTES = 1_572_864
MAX_OPS = 128


class FleetUnreachable(EnvError):
    """No member of the cluster answered (exit 3): the last good files stay where they are."""


class EtcdRefused(EnvError):
    """A member answered with an error (exit 3): a request over its limits, a compacted
    revision, no leader."""

    def __init__(self, message: str, *, code: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class Compacted(EtcdRefused):
    """The revision asked for has been compacted away: read the whole state again."""

    def __init__(self, message: str, compact_revision: int) -> None:
        super().__init__(message, hint="read the whole state again at the current revision")
        self.compact_revision = compact_revision


@dataclass(frozen=True)
class KeyValue:
    key: str
    value: bytes
    mod_revision: int
    create_revision: int


@dataclass(frozen=True)
class Range:
    kvs: list[KeyValue]
    revision: int  # the store's revision the answer was read at
    count: int
    cluster: str = ""  # the cluster's id: a cluster restored from a snapshot is a new one


@dataclass(frozen=True)
class WatchEvent:
    kind: str  # "PUT" or "DELETE"
    key: str
    value: bytes
    mod_revision: int


def _b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def prefix_end(prefix: str) -> str:
    """The range end that covers every key starting with `prefix` (its last byte + 1)."""
    raw = bytearray(prefix.encode())
    raw[-1] += 1
    return raw.decode()


def put(key: str, value: bytes, lease: int | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"key": _b64(key), "value": _b64(value)}
    if lease is not None:
        request["lease"] = str(lease)
    return {"request_put": request}


def delete(key: str) -> dict[str, Any]:
    return {"request_delete_range": {"key": _b64(key)}}


def unchanged_since(key: str, mod_revision: int) -> dict[str, Any]:
    """A comparison of a transaction: `key` was last written at `mod_revision` (0: absent)."""
    return {"key": _b64(key), "target": "MOD", "mod_revision": str(mod_revision)}


def absent(key: str) -> dict[str, Any]:
    """A comparison of a transaction: `key` does not exist."""
    return {"key": _b64(key), "target": "CREATE", "create_revision": "0"}


def parse_endpoints(text: str | list[str]) -> list[str]:
    """`http://h:2379,http://h2:2379` (or a list) -> endpoint URLs; InputError when malformed."""
    items = text.split(",") if isinstance(text, str) else list(text)
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            parts = urllib.parse.urlsplit(item if "://" in item else f"http://{item}")
            host, port = parts.hostname or "", parts.port or 2379
            ok = parts.scheme in ("http", "https") and bool(host) and parts.path in ("", "/")
        except ValueError:
            ok = False  # a bad IPv6 literal, a port out of range or not a number
        if not ok:
            raise InputError(
                f"not an etcd endpoint: {item!r}",
                hint="give client URLs such as http://10.0.0.1:2379, comma-separated",
            )
        bracketed = f"[{host}]" if ":" in host else host
        out.append(f"{parts.scheme}://{bracketed}:{port}")
    if not out:
        raise InputError("no etcd endpoint given", hint="--etcd http://HOST:2379[,http://...]")
    return out


def _error_of(body: Any, status: int) -> EtcdRefused:
    message = body.get("message") or body.get("error") if isinstance(body, dict) else None
    text = str(message or f"HTTP {status}")
    code = body.get("code") if isinstance(body, dict) else None
    if "compacted" in text:
        return Compacted(f"etcd: {text}", 0)
    hint = None
    if "too large" in text or "too many operations" in text:
        hint = "split the request (etcd's --max-request-bytes / --max-txn-ops)"
    return EtcdRefused(f"etcd: {text}", code=code if isinstance(code, int) else None, hint=hint)


class Etcd:
    """A cluster: its endpoints, one of which is in use (moved on when it fails)."""

    def __init__(self, endpoints: str | list[str], *, timeout: float = 5.0) -> None:
        from etcd3gw.client import Etcd3Client

        from cfgctl.deadlineadapter import DeadlineAdapter

        self.endpoints = parse_endpoints(endpoints)
        self.timeout = timeout
        self._clients = []
        for url in self.endpoints:
            parts = urllib.parse.urlsplit(url)
            self._clients.append(
                Etcd3Client(
                    parts.hostname or "127.0.0.1",
                    parts.port or 2379,
                    parts.scheme,
                    timeout=timeout,
                    api_path="/v3/",
                )
            )
        # Each request ends within `timeout` in all, not only per read: a member that drips its
        # answer is cut off and the next one tried (a watch's stream is read outside it).
        adapter = DeadlineAdapter(total=timeout)
        for client in self._clients:
            client.session.mount("http://", adapter)
            client.session.mount("https://", adapter)
        self._current = 0
        self._lock = threading.Lock()

    def describe(self) -> str:
        return ",".join(self.endpoints)

    def close(self) -> None:
        for client in self._clients:
            client.session.close()

    # --- requests -----------------------------------------------------------------------------

    def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST to `/v3/<path>` on the member in use, then on each other one; round after round
        (0.1 s, 0.2 s, ... apart) while the cluster has no leader or no member answers, until
        `timeout` has passed: a leader election (about a second) is a wait, not an error."""
        deadline = time.monotonic() + self.timeout
        pause = 0.1
        while True:
            body, errors = self._round(path, payload)
            if body is not None:
                return body
            if time.monotonic() + pause > deadline:
                break
            time.sleep(pause)
            pause = min(1.0, pause * 2)
        raise FleetUnreachable(
            f"no etcd member answered ({'; '.join(errors)})",
            hint="check that the cluster runs and the endpoints are right; the last good files "
            "stay in place",
        )

    def _round(self, path: str, payload: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
        import requests

        from cfgctl.deadlineadapter import DeadlineTimeout

        errors = []
        data = json.dumps(payload)
        for index in self._order():
            client = self._clients[index]
            try:
                answer = client.session.post(client.get_url(path), data=data, timeout=self.timeout)
            except requests.RequestException as exc:  # a drip: "no complete answer within N s"
                why = str(exc) if isinstance(exc, DeadlineTimeout) else type(exc).__name__
                errors.append(f"{self.endpoints[index]}: {why}")
                continue
            body = _json(answer)
            if answer.status_code == 200 and isinstance(body, dict):
                with self._lock:
                    self._current = index
                return body, errors
            error = _error_of(body, answer.status_code)
            if answer.status_code in (502, 503, 504) or "leader" in error.message:
                errors.append(f"{self.endpoints[index]}: {error.message}")
                continue  # no leader there (yet): another member may have one
            raise error
        return None, errors

    def range(
        self,
        key: str,
        range_end: str | None = None,
        *,
        revision: int | None = None,
        keys_only: bool = False,
        count_only: bool = False,
        limit: int | None = None,
    ) -> Range:
        payload: dict[str, Any] = {"key": _b64(key)}
        if range_end is not None:
            payload["range_end"] = _b64(range_end)
        if revision:
            payload["revision"] = str(revision)
        if keys_only:
            payload["keys_only"] = True
        if count_only:
            payload["count_only"] = True
        if limit:
            payload["limit"] = str(limit)
        body = self.call("kv/range", payload)
        kvs = [
            KeyValue(
                _unb64(kv.get("key")).decode(errors="replace"),
                _unb64(kv.get("value")),
                int(kv.get("mod_revision", 0)),
                int(kv.get("create_revision", 0)),
            )
            for kv in body.get("kvs", [])
        ]
        header = body["header"]
        cluster = str(header.get("cluster_id", ""))
        return Range(kvs, int(header["revision"]), int(body.get("count", 0)), cluster)

    def prefix(self, prefix: str, *, revision: int | None = None) -> Range:
        return self.range(prefix, prefix_end(prefix), revision=revision)

    def txn(
        self,
        success: list[dict[str, Any]],
        compare: list[dict[str, Any]] | None = None,
        failure: list[dict[str, Any]] | None = None,
    ) -> tuple[bool, int]:
        """Run a transaction: (whether the comparisons held, the revision after it)."""
        body = self.call(
            "kv/txn", {"compare": compare or [], "success": success, "failure": failure or []}
        )
        return bool(body.get("succeeded", False)), int(body["header"]["revision"])

    def lease(self, ttl: int) -> int:
        body = self.call("lease/grant", {"TTL": str(ttl)})
        return int(body["ID"])

    def revoke(self, lease: int) -> None:
        self.call("kv/lease/revoke", {"ID": str(lease)})

    def compact(self, revision: int) -> None:
        self.call("kv/compaction", {"revision": str(revision), "physical": True})

    # --- watch --------------------------------------------------------------------------------

    def watch(
        self, key: str, range_end: str | None = None, *, start_revision: int = 0
    ) -> Iterator[WatchEvent]:
        """The events of `key` (or the range) from `start_revision` on, on one member, until its
        stream ends; `Compacted` when that revision is gone, `FleetUnreachable` when no member
        takes the watch. The caller resumes from the last revision it saw."""
        import requests

        request: dict[str, Any] = {"key": _b64(key), "progress_notify": True}
        if range_end is not None:
            request["range_end"] = _b64(range_end)
        if start_revision:
            request["start_revision"] = str(start_revision)
        for index in self._order():
            client = self._clients[index]
            try:
                answer = client.session.post(
                    client.get_url("watch"),
                    data=json.dumps({"create_request": request}),
                    stream=True,
                    timeout=(self.timeout, None),
                )
            except requests.RequestException:
                continue
            if answer.status_code != 200:
                answer.close()
                continue
            with self._lock:
                self._current = index
            yield from _stream(answer)
            return
        raise FleetUnreachable(
            f"no etcd member takes a watch ({self.describe()})",
            hint="check that the cluster runs and the endpoints are right",
        )

    def _order(self) -> list[int]:
        count = len(self._clients)
        return [(self._current + step) % count for step in range(count)]


def _json(answer: Any) -> Any:
    try:
        return answer.json()
    except ValueError:
        return {"message": answer.text[:200]}


def _stream(answer: Any) -> Iterator[WatchEvent]:
    import requests

    try:
        for line in answer.iter_lines():
            if not line.strip():
                continue
            chunk = json.loads(line)
            if "error" in chunk:
                raise _error_of(chunk["error"], 500)
            result = chunk.get("result", {})
            compacted = int(result.get("compact_revision", 0) or 0)
            if compacted:
                raise Compacted(f"etcd: revision compacted (now from {compacted})", compacted)
            if result.get("canceled"):
                reason = result.get("cancel_reason") or "canceled by the server"
                raise EtcdRefused(f"etcd: watch {reason}")
            for event in result.get("events", []):
                kv = event.get("kv", {})
                yield WatchEvent(
                    event.get("type", "PUT"),
                    _unb64(kv.get("key")).decode(errors="replace"),
                    _unb64(kv.get("value")),
                    int(kv.get("mod_revision", 0)),
                )
    except (requests.RequestException, ValueError):
        return  # the member went away: the caller resumes elsewhere
    finally:
        answer.close()
