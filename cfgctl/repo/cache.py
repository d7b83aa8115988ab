"""A content-addressed cache in `.cfgctl/cache/cache.sqlite3` of the config repository.

Values are stored under a key that is itself a digest of everything the value depends on (a blob
id for a parsed document; blob ids, schema digest and cache format for a verdict), so an entry
never goes stale: a change makes a new key. Every value repeats its key and the cache format; one
that does not parse, or names another key or format, is ignored and rebuilt, never trusted. A
database file that SQLite cannot read is deleted and made anew.

One SQLite file rather than a file per entry: creating 6,000 small files costs seconds of system
time, one transaction of 6,000 rows ~20 ms. Writes are buffered and committed by `flush()`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

from cfgctl._version import __version__

__all__ = ["FORMAT", "Cache", "digest"]

log = logging.getLogger(__name__)

# Bump when the shape of cached values changes, or the words of cached diagnostics (4: hints
# naming the cfgctl command, unknown keys cut to 20; 5: diagnostics carry a JSON pointer).
FORMAT = f"cfgctl-cache/5 {__version__}"
DB_NAME = "cache.sqlite3"


def digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


class Cache:
    """`Cache(None)` is a cache that keeps nothing (read-only or cache-less runs)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.hits = 0
        self.misses = 0
        self._db: sqlite3.Connection | None = None
        self._pending: dict[tuple[str, str], str] = {}
        self._opened = False

    def _connect(self) -> sqlite3.Connection | None:
        if self._opened:
            return self._db
        self._opened = True
        if self.root is None:
            return None
        path = self.root / DB_NAME
        for attempt in (1, 2):
            try:
                self.root.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(path, timeout=10, isolation_level=None)
                db.execute(
                    "CREATE TABLE IF NOT EXISTS entries "
                    "(kind TEXT, key TEXT, value TEXT, PRIMARY KEY (kind, key))"
                )
                self._db = db
                return db
            except sqlite3.DatabaseError as exc:
                log.info("cache %s unreadable (%s); rebuilding it", path, exc)
                with contextlib.suppress(OSError):
                    path.unlink()
                if attempt == 2:
                    break
            except OSError as exc:  # a cache that cannot be opened is only slower
                log.info("cache %s unavailable: %s", path, exc)
                break
        return None

    def after_fork(self) -> None:
        """In a forked child: leave the parent's SQLite connection alone (a connection must not
        cross a fork) and open another on the next read; what the child puts stays in it."""
        self._db = None
        self._opened = False

    def get(self, kind: str, key: str) -> Any:
        """The value stored under (kind, key), or None."""
        pending = self._pending.get((kind, key))
        raw: str | None = pending
        if raw is None:
            db = self._connect()
            if db is None:
                return None
            try:
                row = db.execute(
                    "SELECT value FROM entries WHERE kind = ? AND key = ?", (kind, key)
                ).fetchone()
            except sqlite3.Error:
                row = None
            raw = row[0] if row else None
        if raw is None:
            self.misses += 1
            return None
        try:
            entry = json.loads(raw)
        except ValueError:
            entry = None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
            self.misses += 1
            return None
        self.hits += 1
        return entry.get("value")

    def put(self, kind: str, key: str, value: Any) -> None:
        if self.root is None:
            return
        entry = {"format": FORMAT, "key": key, "value": value}
        self._pending[(kind, key)] = json.dumps(entry, ensure_ascii=False)

    def flush(self) -> None:
        """Write the buffered entries in one transaction."""
        if not self._pending:
            return
        db = self._connect()
        rows = [(kind, key, value) for (kind, key), value in self._pending.items()]
        self._pending.clear()
        if db is None:
            return
        try:
            with contextlib.closing(db.cursor()) as cur:
                cur.execute("BEGIN")
                cur.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", rows)
                cur.execute("COMMIT")
        except sqlite3.Error as exc:
            log.info("cache not written: %s", exc)
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None
            self._opened = False
