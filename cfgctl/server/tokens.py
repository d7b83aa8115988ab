"""API tokens of `cfgctl serve`: made once, shown once, kept only as a salted hash.

    store = TokenStore.open(state_dir)                 # STATE_DIR/tokens.db (SQLite, WAL)
    token_id, token = store.create("ci-bot", "editor", ["payments@staging"], timedelta(days=30))
    info = store.verify(token)                         # TokenInfo, or TokenRefused(reason)
    info = store.verify_header(request.headers.get("authorization"))   # the same, from HTTP
    store.revoke(token_id); store.list()

A token reads `cfgctl_<id>_<secret>`: the prefix lets secret scanners find a leaked one, the id
finds its row without comparing against every hash, the secret is 256 random bits
(`secrets.token_urlsafe(32)`). The database keeps the id, the subject, the role and scopes (a
ceiling: a token never does more than rbac.yaml grants its subject), the times and
PBKDF2-HMAC-SHA256(secret, a salt of its own): never the secret.

The hash is deliberately cheap (1,000 iterations, ~0.5 ms): a slow hash guards low-entropy
passwords against guessing, which 256 random bits do not need, and the server pays it on
every request. The iteration count is stored per row, so it can be raised without breaking
existing tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from cfgctl.errors import CheckFailed, EnvError, InputError

__all__ = [
    "PREFIX",
    "ROLES",
    "SCHEMA_VERSION",
    "TOKENS_DB",
    "TokenInfo",
    "TokenRefused",
    "TokenStore",
    "parse_token",
]

MAX_LIFETIME = timedelta(days=100 * 365)  # past it, a date no longer prints (year 9999)

PREFIX = "cfgctl_"
TOKENS_DB = "tokens.db"
SCHEMA_VERSION = 1
ROLES = ("viewer", "agent", "editor", "approver", "admin")

Reason = Literal["missing", "malformed", "unknown", "forged", "expired", "revoked"]

_ITERATIONS = 1000
_TOKEN = re.compile(r"cfgctl_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
# As rbac.schema.json has them: a subject rbac.yaml can name, a scope it can write.
_SUBJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]*")
_SCOPE = re.compile(r"\*|[A-Za-z0-9*?{}\[\],._-]+@[A-Za-z0-9*?{}\[\],._-]+")
# last_used is written at most this often per token: one write per request would serialise
# every reader on SQLite's write lock.
_TOUCH_EVERY = 60.0

_SCHEMA = """
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    role TEXT NOT NULL,
    scopes TEXT NOT NULL,        -- a JSON list of service@env globs
    kdf TEXT NOT NULL,           -- pbkdf2-sha256:ITERATIONS
    salt BLOB NOT NULL,
    hash BLOB NOT NULL,
    created INTEGER NOT NULL,    -- Unix seconds, UTC
    expires INTEGER,             -- NULL: never
    revoked INTEGER,
    last_used INTEGER
)
"""


class TokenRefused(CheckFailed):
    """A token that does not let its bearer in; `reason` says why (for the audit log), the
    message never holds the token's secret."""

    def __init__(self, reason: Reason, message: str, *, token_id: str | None = None) -> None:
        super().__init__(message, hint=_HINTS[reason])
        self.reason: Reason = reason
        self.token_id = token_id


_HINTS: dict[Reason, str] = {
    "missing": "send a token as `Authorization: Bearer cfgctl_<id>_<secret>`",
    "malformed": "send the whole token as `Authorization: Bearer cfgctl_<id>_<secret>`",
    "unknown": "ask an administrator for a token: cfgctl serve token create",
    "forged": "send the token exactly as `cfgctl serve token create` printed it",
    "expired": "ask an administrator for a new token: cfgctl serve token create",
    "revoked": "ask an administrator for a new token: cfgctl serve token create",
}


@dataclass(frozen=True)
class TokenInfo:
    """What the server knows of a token: never its secret."""

    id: str
    subject: str
    role: str
    scopes: tuple[str, ...]
    created: datetime
    expires: datetime | None
    revoked: datetime | None
    last_used: datetime | None

    def to_dict(self) -> dict[str, Any]:
        def iso(t: datetime | None) -> str | None:
            return None if t is None else t.strftime("%Y-%m-%dT%H:%M:%SZ")

        return {
            "id": self.id,
            "subject": self.subject,
            "role": self.role,
            "scopes": list(self.scopes),
            "created": iso(self.created),
            "expires": iso(self.expires),
            "revoked": iso(self.revoked),
            "last_used": iso(self.last_used),
        }


def parse_token(token: str) -> tuple[str, str]:
    """(id, secret) of a token string; `TokenRefused("malformed")` for anything else."""
    match = _TOKEN.fullmatch(token.strip())
    if match is None:
        raise TokenRefused("malformed", "not a cfgctl API token")
    return match[1], match[2]


def _hash(secret: str, salt: bytes, kdf: str) -> bytes:
    name, _, iterations = kdf.partition(":")
    if name != "pbkdf2-sha256" or not iterations.isdigit():
        raise EnvError(
            f"the token database names an unknown hash {kdf!r}",
            hint="it was written by a newer cfgctl: upgrade cfgctl",
        )
    return hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, int(iterations))


def _time(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _info(row: sqlite3.Row) -> TokenInfo:
    created = _time(row["created"])
    assert created is not None  # NOT NULL in the schema
    return TokenInfo(
        row["id"],
        row["subject"],
        row["role"],
        tuple(json.loads(row["scopes"])),
        created,
        _time(row["expires"]),
        _time(row["revoked"]),
        _time(row["last_used"]),
    )


class TokenStore:
    """The tokens table of one state database. Safe to share between threads and processes:
    each operation opens its own connection (SQLite in WAL mode serialises the writers)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Tokens whose secret was already checked in this process: sha256(token) -> id. The
        # row is still read on every call (revocation and expiry count at once); only the
        # hash is skipped. Bounded: a long-lived server meets a bounded set of tokens.
        self._verified: dict[bytes, str] = {}
        self._lock = threading.Lock()
        self._touched: dict[str, float] = {}
        self._local = threading.local()

    @classmethod
    def open(cls, state_dir: Path) -> TokenStore:
        """The store of `state_dir` (made, mode 0700, with its database, when missing)."""
        try:
            state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise EnvError(
                f"cannot make the state directory {state_dir}: {exc.strerror}",
                hint="pass --state-dir a folder the server may write",
            ) from None
        store = cls(state_dir / TOKENS_DB)
        with store._connect():
            pass
        return store

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection (kept open: a new one costs ~0.5 ms of every request);
        sqlite3 errors become EnvError."""
        con = self._connection()
        try:
            yield con
        except sqlite3.Error as exc:
            raise EnvError(
                f"the token database {self.path} failed: {exc}",
                hint="check the disk and the state directory's permissions",
            ) from None

    def _connection(self) -> sqlite3.Connection:
        held = getattr(self._local, "con", None)
        if held is not None and held[0] == os.getpid():  # a forked worker opens its own
            con: sqlite3.Connection = held[1]
            return con
        try:
            new = not self.path.exists()
            con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            if new:
                os.chmod(self.path, 0o600)  # noqa: PTH101  the hashes are nobody else's business
            con.row_factory = sqlite3.Row
            self._migrate(con)
        except (OSError, sqlite3.Error) as exc:
            raise EnvError(
                f"cannot open the token database {self.path}: {exc}",
                hint="check the state directory's permissions (--state-dir)",
            ) from None
        except EnvError:
            con.close()
            raise
        self._local.con = (os.getpid(), con)
        return con

    def close(self) -> None:
        """Close this thread's connection (the next call opens a new one)."""
        held = getattr(self._local, "con", None)
        if held is not None:
            self._local.con = None
            held[1].close()

    def _migrate(self, con: sqlite3.Connection) -> None:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise EnvError(
                f"the token database {self.path} has schema {version}; this cfgctl knows"
                f" {SCHEMA_VERSION}",
                hint="upgrade cfgctl",
            )
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("BEGIN IMMEDIATE")
        if con.execute("PRAGMA user_version").fetchone()[0] == 0:  # not made meanwhile
            con.execute(_SCHEMA)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        con.execute("COMMIT")

    def create(
        self,
        subject: str,
        role: str,
        scopes: Sequence[str],
        expires: timedelta | None,
        *,
        now: datetime | None = None,
    ) -> tuple[str, str]:
        """A new token: (its id, the token string). The string exists only in the return
        value: show it once, then drop it. `expires` None: never."""
        if role not in ROLES:
            raise InputError(f"no role {role!r}", hint="the roles are " + ", ".join(ROLES))
        if not scopes:
            raise InputError("a token needs a scope", hint="pass --scope SERVICE@ENV (globs: *)")
        if _SUBJECT.fullmatch(subject) is None:
            raise InputError(
                f"not a subject name: {subject!r}",
                hint="letters, digits and . _ @ + - (as rbac.yaml names it; no group:)",
            )
        for scope in scopes:
            if _SCOPE.fullmatch(scope) is None:
                raise InputError(
                    f"not a scope: {scope!r}",
                    hint="write SERVICE@ENV with globs (payments@staging, *@dev*), or * for all",
                )
        if expires is not None and expires.total_seconds() <= 0:
            raise InputError("a token must expire in the future", hint="e.g. --expires 30d")
        if expires is not None and expires > MAX_LIFETIME:
            raise InputError(
                f"a token may live {MAX_LIFETIME.days // 365} years at most",
                hint="e.g. --expires 90d, or --expires never for one that must not expire",
            )
        created = int((now or datetime.now(UTC)).timestamp())
        until = None if expires is None else created + int(expires.total_seconds())
        token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        salt, kdf = secrets.token_bytes(16), f"pbkdf2-sha256:{_ITERATIONS}"
        with self._connect() as con:
            con.execute(
                "INSERT INTO tokens (id, subject, role, scopes, kdf, salt, hash, created, expires)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    token_id,
                    subject,
                    role,
                    json.dumps(list(scopes)),
                    kdf,
                    salt,
                    _hash(secret, salt, kdf),
                    created,
                    until,
                ),
            )
        return token_id, f"{PREFIX}{token_id}_{secret}"

    def verify(self, token: str, *, now: datetime | None = None) -> TokenInfo:
        """The token's info, when it lets its bearer in; `TokenRefused` with reason malformed,
        unknown, forged (a known id, another secret), expired or revoked otherwise."""
        token_id, secret = parse_token(token)
        with self._connect() as con:
            row = con.execute("SELECT * FROM tokens WHERE id = ?", (token_id,)).fetchone()
        if row is None:
            raise TokenRefused("unknown", f"no token {token_id}", token_id=token_id)
        memo = hashlib.sha256(token.strip().encode()).digest()
        if self._verified.get(memo) != token_id:
            # compare_digest: the time taken says nothing of how much of the hash matched.
            if not hmac.compare_digest(_hash(secret, row["salt"], row["kdf"]), row["hash"]):
                raise TokenRefused(
                    "forged", f"token {token_id} does not match its secret", token_id=token_id
                )
            with self._lock:
                if len(self._verified) >= 4096:
                    self._verified.clear()
                self._verified[memo] = token_id
        info = _info(row)
        at = now or datetime.now(UTC)
        if info.revoked is not None:
            raise TokenRefused(
                "revoked", f"token {token_id} was revoked {_iso(info.revoked)}", token_id=token_id
            )
        if info.expires is not None and info.expires <= at:
            raise TokenRefused(
                "expired", f"token {token_id} expired {_iso(info.expires)}", token_id=token_id
            )
        self._touch(token_id, at)
        return info

    def verify_header(self, authorization: str | None, *, now: datetime | None = None) -> TokenInfo:
        """`verify` of an HTTP Authorization header's bearer token; reason `missing` without
        one (`Basic ...` and other schemes included)."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenRefused("missing", "no bearer token")
        return self.verify(token, now=now)

    def _touch(self, token_id: str, at: datetime) -> None:
        stamp = at.timestamp()
        with self._lock:
            if stamp - self._touched.get(token_id, float("-inf")) < _TOUCH_EVERY:
                return
            if len(self._touched) >= 4096:
                self._touched.clear()
            self._touched[token_id] = stamp
        with self._connect() as con:
            con.execute("UPDATE tokens SET last_used = ? WHERE id = ?", (int(stamp), token_id))

    def revoke(self, token_id: str, *, now: datetime | None = None) -> TokenInfo:
        """Revoke a token (at once, in every server process); revoking it again is a no-op."""
        at = int((now or datetime.now(UTC)).timestamp())
        with self._connect() as con:
            con.execute(
                "UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL", (at, token_id)
            )
            row = con.execute("SELECT * FROM tokens WHERE id = ?", (token_id,)).fetchone()
        if row is None:
            raise InputError(f"no token {token_id}", hint="cfgctl serve token list shows them")
        return _info(row)

    def list(self) -> list[TokenInfo]:
        """Every token, the oldest first (revoked and expired ones too)."""
        with self._connect() as con:
            rows = con.execute("SELECT * FROM tokens ORDER BY created, id").fetchall()
        return [_info(row) for row in rows]

    def get(self, token_id: str) -> TokenInfo | None:
        with self._connect() as con:
            row = con.execute("SELECT * FROM tokens WHERE id = ?", (token_id,)).fetchone()
        return None if row is None else _info(row)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")
