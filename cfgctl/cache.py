"""A content-addressed cache under `.cfgctl/cache/` of the config repository.

Entries are JSON files named by a key that is itself a digest of everything the value depends on
(a blob id for a parsed document; blob ids, schema digest and cfgctl version for a verdict), so an
entry never goes stale: a change makes a new key. Every entry repeats its key and format; one that
does not parse, or names another key or format, is ignored and rebuilt, never trusted.

Entries are written with a rename but without fsync: a crash can at worst leave a corrupt entry,
which the rule above discards; fsync per entry would cost more than the parsing it saves.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from cfgctl import __version__

__all__ = ["Cache", "digest"]

# Bump when the shape of cached values changes.
FORMAT = f"cfgctl-cache/2 {__version__}"


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

    def _path(self, kind: str, key: str) -> Path:
        assert self.root is not None
        return self.root / kind / key[:2] / f"{key[2:]}.json"

    def get(self, kind: str, key: str) -> Any:
        """The value stored under (kind, key), or None."""
        if self.root is None:
            return None
        try:
            entry = json.loads(self._path(kind, key).read_bytes())
        except (OSError, ValueError):
            self.misses += 1
            return None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
            self.misses += 1
            return None
        self.hits += 1
        return entry.get("value")

    def put(self, kind: str, key: str, value: Any) -> None:
        if self.root is None:
            return
        path = self._path(kind, key)
        data = json.dumps({"format": FORMAT, "key": key, "value": value}, ensure_ascii=False)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(data)
            Path(tmp).replace(path)
        except OSError:  # a cache that cannot be written is only slower
            with contextlib.suppress(OSError, UnboundLocalError):
                Path(tmp).unlink()
