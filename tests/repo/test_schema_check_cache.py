"""The on-disk cache of a schema's own check (metaschema, `$ref`s): keyed by content, a corrupt
or foreign entry ignored, the verdict the same as an uncached check."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from cfgctl.repo.cache import DB_NAME, FORMAT, Cache
from cfgctl.repo.gitstore import FileRef
from cfgctl.repo.schemas import SchemaRegistry

BASE = "file:///repo/"
GOOD = b'{"type": "object", "properties": {"a": {"$ref": "#/$defs/a"}}, "$defs": {"a": {}}}'
BROKEN = b'{"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}'
BAD_META = b'{"type": 12}'


def _registry(cache: Cache | None, **files: bytes) -> SchemaRegistry:
    refs = {
        f"schemas/{name}.schema.json": FileRef.of_bytes(f"schemas/{name}.schema.json", data)
        for name, data in files.items()
    }
    return SchemaRegistry(refs, base_uri=BASE, cache=cache)


def _check(cache: Cache | None, name: str, **files: bytes) -> list[dict[str, object]]:
    registry = _registry(cache, **files)
    return [d.to_dict() for d in registry.check(registry.resolve(name))]


def test_cached_verdicts_equal_uncached_ones(tmp_path: Path) -> None:
    for data in (GOOD, BROKEN, BAD_META, b"{not json"):
        expected = _check(None, "s", s=data)
        cache = Cache(tmp_path)
        assert _check(cache, "s", s=data) == expected  # computed, stored
        cache.close()
        again = Cache(tmp_path)
        assert _check(again, "s", s=data) == expected  # read back
        assert again.hits == 1
        again.close()
    assert _check(None, "s", s=GOOD) == []
    assert _check(None, "s", s=BROKEN) != []


def test_key_follows_content_base_and_other_schemas() -> None:
    def key(base: str = BASE, **files: bytes) -> str:
        registry = SchemaRegistry(
            {
                f"schemas/{n}.schema.json": FileRef.of_bytes(f"schemas/{n}.schema.json", d)
                for n, d in files.items()
            },
            base_uri=base,
        )
        return registry.check_key(registry.resolve("s"))

    first = key(s=GOOD)
    assert key(s=GOOD) == first
    assert key(s=BROKEN) != first  # the schema changed
    assert key(s=GOOD, other=b"{}") != first  # a schema its $refs may reach appeared
    assert key("file:///elsewhere/", s=GOOD) != first  # $refs resolve against another base


def test_corrupt_or_foreign_entries_are_ignored(tmp_path: Path) -> None:
    expected = _check(None, "s", s=BROKEN)
    key = _registry(None, s=BROKEN).check_key(_registry(None, s=BROKEN).resolve("s"))
    cache = Cache(tmp_path)
    _check(cache, "s", s=BROKEN)
    cache.close()
    db = sqlite3.connect(tmp_path / DB_NAME)
    for value in (
        "not json",
        json.dumps({"format": "cfgctl-cache/0", "key": key, "value": []}),  # another format
        json.dumps({"format": None, "key": "another", "value": []}),
    ):
        with db:
            db.execute(
                "UPDATE entries SET value = ? WHERE kind = 'schema-check' AND key = ?",
                (value, key),
            )
        fresh = Cache(tmp_path)
        assert _check(fresh, "s", s=BROKEN) == expected
        assert fresh.hits == 0
        fresh.close()
    # A well-formed entry whose diagnostics do not parse is ignored too.
    with db:
        db.execute(
            "UPDATE entries SET value = ? WHERE kind = 'schema-check' AND key = ?",
            (json.dumps({"format": FORMAT, "key": key, "value": [{"severity": "error"}]}), key),
        )
    assert _check(Cache(tmp_path), "s", s=BROKEN) == expected
    db.close()
