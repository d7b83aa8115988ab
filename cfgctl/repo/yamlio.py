"""Reading YAML fast and strictly, with positions on demand.

Reading (`parse`) composes nodes with the C parser of ruamel.yaml.clib and builds plain Python data
(dict, list, str, int, float, bool, None) with our own constructor (`cfgctl.repo._yamlbuild`), which
is where the strict rules live: one document per file, no duplicate keys, only scalar keys (kept as
strings, as JSON needs), no unknown tags, an expansion budget against alias bombs. Timestamps stay
the strings that were written, so that JSON Schema's `format: date-time` sees them as such. The
YAML is read as 1.2, as ruamel.yaml does: `no`, `yes`, `on` and `off` are strings, and a warning
says so.

Positions are not kept while reading (they would double the cost of every file); `Document.position`
composes the file again once, and only for a document a diagnostic or `explain` points into.

    doc = parse(b"port: 8080\\n", "config/prod/payments.yaml")
    doc.data                       # {"port": 8080}
    doc.position(("port",))        # (1, 7): line and column, 1-based, of the value

Writing YAML (round-trip edits, plain output) is `cfgctl.repo.yamlwrite`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from cfgctl.errors import InputError, Location
from cfgctl.repo._yamlbuild import MAX_DEPTH, NODE_BUDGET, Builder, JsonPath, compose, compose_all

__all__ = [
    "NODE_BUDGET",
    "Document",
    "JsonPath",
    "copy_data",
    "decode",
    "iter_leaves",
    "load_strict_json",
    "parse",
    "parse_all",
    "same_data",
]


@dataclass
class Document:
    """One parsed YAML file: its data, its warnings, and positions found on demand."""

    source: str
    raw: str | Callable[[], str]  # the text, or a function reading it when positions are needed
    data: Any
    warnings: list[tuple[JsonPath, str]] = field(default_factory=list)
    index: int | None = None  # the document's number in a multi-document stream (parse_all)
    _positions: dict[JsonPath, tuple[int, int]] | None = field(default=None, repr=False)
    _key_positions: dict[JsonPath, tuple[int, int]] | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        if callable(self.raw):
            self.raw = self.raw()
        return self.raw

    def with_data(self, data: Any) -> Document:
        """The same file with other data (a view of it): positions shared, not found again."""
        return replace(self, data=data)

    def _index(self) -> None:
        if self._positions is None:
            builder = Builder(self.source, positions=True)
            if self.index is None:
                builder.build(compose(self.text, self.source))
            else:
                builder.build(compose_all(self.text, self.source)[self.index])
            self._positions, self._key_positions = builder.positions, builder.key_positions

    def position(self, path: JsonPath, *, key: bool = False) -> tuple[int, int] | None:
        """1-based (line, column) of the value at `path` (of its key with `key=True`), or None."""
        self._index()
        table = self._key_positions if key else self._positions
        assert table is not None
        return table.get(tuple(path))

    def nearest_position(self, path: JsonPath) -> tuple[int, int]:
        """The position of `path`, or of its nearest ancestor present in the file, or 1:1."""
        for cut in range(len(path), -1, -1):
            found = self.position(path[:cut])
            if found is not None:
                return found
        return (1, 1)

    def location(self, path: JsonPath, *, key: bool = False) -> Location:
        line, col = self.position(path, key=key) or self.nearest_position(path)
        return Location(self.source, line, col)


def copy_data(value: Any) -> Any:
    """A deep copy of parsed data (dicts, lists, immutable scalars): 3x faster than
    copy.deepcopy, which must track every object it has seen."""
    if isinstance(value, dict):
        return {k: copy_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_data(v) for v in value]
    return value


def same_data(a: Any, b: Any) -> bool:
    """Equal as data, types included (Python finds 1 == True and 1 == 1.0); key order aside."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_data(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) or (a != a and b != b)  # NaN equals NaN here


def decode(data: bytes | str, source: str) -> str:
    """The text of a file; a clear error for a binary or non-UTF-8 file."""
    if isinstance(data, str):
        return data
    if b"\0" in data[:8192]:
        raise InputError(
            "binary file, not YAML", location=Location(source), hint="remove it or add .gitignore"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            location=Location(source, line),
            hint="save the file as UTF-8",
        ) from exc


def parse(data: bytes | str, source: str) -> Document:
    """Parse one YAML (or JSON) document strictly; `InputError` with file:line:col otherwise.

    An empty file, or one holding only comments, is an empty mapping's worth: `data` is None.
    """
    text = decode(data, source)
    if source.endswith(".json"):
        found = _plain_json(text)
        if found is not None:
            return Document(source, text, found[0], [])
    builder = Builder(source, positions=False)
    value = builder.build(compose(text, source))
    return Document(source, text, value, builder.warnings)


def _plain_json(text: str) -> tuple[Any] | None:
    """A .json file (the schemas) read by the json module: ~10x faster than composing it as
    YAML, and its multi-line flow collections never call the YAML 1.2 validity check. None when
    anything is off (invalid JSON, NaN, a duplicate key, a `<<` key, nesting too deep): the YAML
    reader then gives the verdict and the located message, as before."""
    if "<<" in text or text.count("[") + text.count("{") > MAX_DEPTH:  # depth: YAML's verdict
        return None
    try:
        return (json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_refuse),)
    except (ValueError, RecursionError):
        return None


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def parse_all(data: bytes | str, source: str) -> list[Document]:
    """Every document of a multi-document stream (`---` separated), strictly; [] for none."""
    text = decode(data, source)
    out = []
    for i, node in enumerate(compose_all(text, source)):
        builder = Builder(source, positions=False)
        value = builder.build(node)
        out.append(Document(source, text, value, builder.warnings, index=i))
    return out


def iter_leaves(data: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, Any]]:
    """Every (path, value) of non-container values; an empty container is a leaf too."""
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from iter_leaves(value, (*path, key))
    elif isinstance(data, list) and data:
        for i, value in enumerate(data):
            yield from iter_leaves(value, (*path, i))
    else:
        yield path, data


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def load_strict_json(data: bytes | str, source: str) -> Any:
    """Strict JSON (no trailing commas, no duplicate keys, no NaN); InputError with line and
    column otherwise."""
    text = decode(data, source)
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON: {exc.msg}",
            location=Location(source, exc.lineno, exc.colno),
            hint="fix the JSON syntax (a .json file is read as strict JSON)",
        ) from exc
    except ValueError as exc:  # a duplicate key
        raise InputError(
            f"invalid JSON: {exc}", location=Location(source), hint="keep one"
        ) from exc
    except RecursionError as exc:
        raise InputError(
            "nesting too deep to read", location=Location(source), hint="flatten the document"
        ) from exc
