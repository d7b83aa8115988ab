"""The server's audit log: one JSON line per write, reveal, denial and token event, each line
carrying the SHA-256 of the line before it, so that an edited, removed, inserted or reordered
line shows.

    log = AuditLog(state_dir / AUDIT_FILE)
    log.append("alice", "edit", "payments@prod", "allowed", request_id=rid, commit=sha)
    result = verify(path)                  # VerifyResult(ok, lines, first_bad_line, reason, head)
    verify(path, anchor="1041:9f2c...")    # and still holds line 1041 as it was seen then

A line (keys sorted, no spaces, ASCII):

    {"action":"edit","commit":"4be1...","detail":{},"object":"payments@prod","outcome":"allowed",
     "prev":"<sha256 of the previous line's bytes, no newline>","request_id":"r-17","seq":42,
     "subject":"alice","time":"2026-12-02T14:50:00.123Z"}

The first line's `prev` is GENESIS (64 zeros). Values never: `detail` goes through `redact`,
which masks every value under a key whose last word names a value, secret, password or token
(`value`, `old_value`, `db_password`; not `token_id`), and any cfgctl token anywhere. An
append holds a lock (a thread lock and flock, for several server processes), writes the line
with one O_APPEND write and fsyncs it; when it cannot, `AuditUnavailable` (an EnvError) says
so, and the caller refuses the write or reveal it was about to allow (Vault's rule).

A chain proves its own consistency, not its completeness at the end: whoever can write the
file can drop its last lines or rewrite the chain after an edit. `verify --anchor SEQ:HASH`
with a head recorded elsewhere (a previous verify's) catches both.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cfgctl.errors import EnvError, InputError, Location

__all__ = [
    "AUDIT_FILE",
    "GENESIS",
    "AuditLog",
    "AuditUnavailable",
    "VerifyResult",
    "line_hash",
    "redact",
    "verify",
]

AUDIT_FILE = "audit.jsonl"
GENESIS = "0" * 64
MASK = "[redacted]"

_FIELDS = ("action", "commit", "object", "outcome", "prev", "request_id", "seq", "subject", "time")
_SECRET_KEY = re.compile(
    r"(?:^|[_-])(?:values?|secrets?|passwords?|passwd|tokens?|plaintext|credentials?|private[_-]?key)"
    r"$",
    re.IGNORECASE,
)
# An API token, and a JWT (an OIDC bearer token: base64url JSON, so its header opens `eyJ`).
_TOKEN = re.compile(
    r"cfgctl_[0-9a-f]{12}_[A-Za-z0-9_-]+|eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"
)
_TAIL_CHUNK = 65536


class AuditUnavailable(EnvError):
    """The audit log cannot be written: refuse what would have been audited."""


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    lines: int  # the whole lines read
    first_bad_line: int | None = None
    reason: str = ""
    head: str = f"0:{GENESIS}"  # SEQ:HASH of the last good line: an anchor for later verifies

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "lines": self.lines,
            "first_bad_line": self.first_bad_line,
            "reason": self.reason,
            "head": self.head,
        }


def line_hash(line: bytes) -> str:
    """The SHA-256 (hex) of a line's bytes, without its newline: the next line's `prev`."""
    return hashlib.sha256(line).hexdigest()


def redact(value: Any, key: str = "") -> Any:
    """`value` with every value under a secret-naming key masked, and any cfgctl token or JWT
    in a string masked: what may go into the audit log."""
    if key and _SECRET_KEY.search(key):
        return MASK
    if isinstance(value, Mapping):
        return {str(k): redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _TOKEN.sub(MASK, value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return MASK  # anything else could print as anything


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _encode(entry: Mapping[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


class AuditLog:
    """Appends to one audit log file; share one object between a process's threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._tail: tuple[int, str, int] | None = None  # (file size, hash, seq) after our write

    def append(
        self,
        subject: str,
        action: str,
        obj: str,
        outcome: str,
        *,
        request_id: str | None = None,
        commit: str | None = None,
        detail: Mapping[str, Any] | None = None,
        time: str | None = None,
    ) -> dict[str, Any]:
        """Write one entry (durably: fsync) and return it; `AuditUnavailable` when it cannot."""
        entry: dict[str, Any] = {
            "time": time or _now(),
            "subject": redact(subject),
            "action": redact(action),
            "object": redact(obj),
            "outcome": redact(outcome),
            "request_id": redact(request_id),
            "commit": redact(commit),
            "detail": redact(dict(detail or {})),
        }
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            except OSError as exc:
                raise self._unavailable(exc) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # other server processes append too
                self._append_locked(fd, entry)
            except OSError as exc:
                raise self._unavailable(exc) from None
            finally:
                os.close(fd)  # releases the flock
        return entry

    def _append_locked(self, fd: int, entry: dict[str, Any]) -> None:
        size = os.fstat(fd).st_size
        if self._tail is not None and self._tail[0] == size:
            prev, seq = self._tail[1], self._tail[2]
        else:
            prev, seq = self._read_tail(fd, size)
        entry["seq"], entry["prev"] = seq + 1, prev
        line = _encode(entry)
        data = line + b"\n"
        try:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        except OSError:
            # A disk that filled up mid-line: take the half line back, so that the log stays
            # a chain of whole lines (we hold the lock; nobody appended after us).
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            raise
        self._tail = (size + len(data), line_hash(line), seq + 1)

    def _read_tail(self, fd: int, size: int) -> tuple[str, int]:
        """(hash, seq) of the file's last line; (GENESIS, 0) for an empty file."""
        if size == 0:
            return GENESIS, 0
        start = size
        data = b""
        while start > 0 and data[:-1].rfind(b"\n") < 0:
            start = max(0, start - _TAIL_CHUNK)
            data = os.pread(fd, size - start, start)
        if not data.endswith(b"\n"):
            raise AuditUnavailable(
                f"the audit log {self.path} ends in a partial line",
                location=Location(str(self.path)),
                hint="run `cfgctl audit verify` on it, move it aside and start a new log",
            )
        line = data[data[:-1].rfind(b"\n") + 1 : -1]
        try:
            seq = json.loads(line)["seq"]
        except (ValueError, KeyError, TypeError):
            seq = None
        if not isinstance(seq, int):
            raise AuditUnavailable(
                f"the last line of the audit log {self.path} is not an audit entry",
                location=Location(str(self.path)),
                hint="run `cfgctl audit verify` on it, move it aside and start a new log",
            )
        return line_hash(line), seq

    def _unavailable(self, exc: OSError) -> AuditUnavailable:
        return AuditUnavailable(
            f"cannot write the audit log {self.path}: {exc.strerror or exc}",
            hint="free disk space or fix the state directory's permissions; until then writes"
            " and reveals are refused",
        )


def _check_line(raw: bytes, expected_prev: str, expected_seq: int) -> tuple[int, str] | None:
    """What is wrong with one line, given the line before it, and which line it points at (0:
    this one, -1: the one before); None when nothing."""
    try:
        entry = json.loads(raw)
    except ValueError:
        return 0, "not a JSON line"
    if not isinstance(entry, dict) or any(f not in entry for f in _FIELDS):
        return 0, "not an audit entry (a field is missing)"
    if _encode(entry) != raw:
        return 0, "changed by hand (its bytes are not the form cfgctl writes)"
    seq = entry["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool):
        return 0, "its seq is not a number"
    if seq != expected_seq:
        return 0, (
            f"seq {seq} where {expected_seq} was due: lines before it were removed, inserted"
            " or reordered"
        )
    if entry["prev"] != expected_prev:
        if expected_seq == 1:
            return 0, "the first line does not start the chain (its prev is not GENESIS)"
        return -1, (
            f"its hash is not line {expected_seq}'s prev: it was changed (or that prev was)"
        )
    return None


def _parse_anchor(anchor: str) -> tuple[int, str]:
    seq_text, _, want = anchor.partition(":")
    if not seq_text.isdigit() or re.fullmatch(r"[0-9a-f]{64}", want) is None:
        raise InputError(
            f"not an anchor: {anchor!r}", hint="pass the head a verify printed: SEQ:SHA256"
        )
    return int(seq_text), want


def _check_anchor(anchor: str, hashes: list[str]) -> str | None:
    seq, want = _parse_anchor(anchor)
    if seq == 0:
        return None if want == GENESIS else "the anchor names line 0 with another hash"
    if seq > len(hashes):
        return (
            f"the log ends at line {len(hashes)}; the anchor names line {seq}: lines were removed"
        )
    if hashes[seq - 1] != want:
        return f"line {seq} is not the line the anchor recorded: it or a line before it changed"
    return None


def verify(path: Path, *, anchor: str | None = None) -> VerifyResult:
    """Check the whole chain of `path` (and that it still holds `anchor`, a SEQ:HASH head of
    an earlier verify); an `InputError` when it cannot be read."""
    if anchor is not None:
        _parse_anchor(anchor)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the audit log: {exc.strerror}",
            location=Location(str(path)),
            hint="pass the audit log's path (STATE_DIR/audit.jsonl)",
        ) from None
    lines = data.split(b"\n")
    partial = lines.pop()  # b"" when the file ends with a newline
    hashes: list[str] = []
    prev = GENESIS
    for number, raw in enumerate(lines, start=1):
        problem = _check_line(raw, prev, number)
        if problem is not None:
            shift, reason = problem
            good = hashes[: number - 1 + shift]
            return VerifyResult(False, len(good), number + shift, reason, _head(good))
        prev = line_hash(raw)
        hashes.append(prev)
    if partial:
        reason = "the log ends in a partial line: it was truncated (or a write was cut off)"
        return VerifyResult(False, len(hashes), len(hashes) + 1, reason, _head(hashes))
    if anchor is not None:
        mismatch = _check_anchor(anchor, hashes)
        if mismatch is not None:
            bad = min(int(anchor.partition(":")[0]), len(hashes) + 1)
            return VerifyResult(False, len(hashes), bad, mismatch, _head(hashes))
    return VerifyResult(True, len(hashes), None, "", _head(hashes))


def _head(hashes: list[str]) -> str:
    return f"{len(hashes)}:{hashes[-1] if hashes else GENESIS}"
