"""Reading YAML fast and strictly, with positions on demand; round-trip editing that keeps comments.

Reading (`parse`) composes nodes with the C parser of ruamel.yaml.clib and builds plain Python data
(dict, list, str, int, float, bool, None) with our own constructor, which is where the strict rules
live: one document per file, no duplicate keys, only scalar keys (kept as strings, as JSON needs),
no unknown tags, an expansion budget against alias bombs. Timestamps stay the strings that were
written, so that JSON Schema's `format: date-time` sees them as such. The YAML is read as 1.2, as
ruamel.yaml does: `no`, `yes`, `on` and `off` are strings, and a warning says so.

Positions are not kept while reading (they would double the cost of every file); `Document.position`
composes the file again once, and only for a document a diagnostic or `explain` points into.

    doc = parse(b"port: 8080\\n", "config/prod/payments.yaml")
    doc.data                       # {"port": 8080}
    doc.position(("port",))        # (1, 7): line and column, 1-based, of the value

Editing (`load_roundtrip`, `dump_roundtrip`) uses ruamel.yaml's round-trip mode, which keeps
comments, key order and quoting.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import ruamel.yaml
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from cfgctl.errors import InputError, Location

try:  # the C scanner and parser: ~6x faster than the pure-Python ones
    from _ruamel_yaml import CParser as _Parser  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - ruamel.yaml.clib is a declared dependency
    _Parser = None

__all__ = [
    "NODE_BUDGET",
    "Document",
    "JsonPath",
    "dump_plain",
    "dump_roundtrip",
    "is_ambiguous",
    "load_roundtrip",
    "load_strict_json",
    "parse",
    "parse_all",
]

JsonPath = tuple[str | int, ...]

# The most nodes one document may expand to, aliases counted every time they are used. A config
# file of 10,000 lines has ~20,000; a "billion laughs" file would expand to 10^9.
NODE_BUDGET = 1_000_000

_YAML11_BOOLS = frozenset(
    s for w in ("yes", "no", "on", "off", "y", "n") for s in (w, w.capitalize(), w.upper())
)
_TAG = "tag:yaml.org,2002:"
_OCTAL_11 = re.compile(r"^[-+]?0[0-7]+$")
_SEXAGESIMAL_11 = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")


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
            builder = _Builder(self.source, positions=True)
            if self.index is None:
                builder.build(_compose(self.text, self.source))
            else:
                builder.build(_compose_all(self.text, self.source)[self.index])
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
    builder = _Builder(source, positions=False)
    value = builder.build(_compose(text, source))
    return Document(source, text, value, builder.warnings)


def parse_all(data: bytes | str, source: str) -> list[Document]:
    """Every document of a multi-document stream (`---` separated), strictly; [] for none."""
    text = decode(data, source)
    out = []
    for i, node in enumerate(_compose_all(text, source)):
        builder = _Builder(source, positions=False)
        value = builder.build(node)
        out.append(Document(source, text, value, builder.warnings, index=i))
    return out


class _Composer(VersionedResolver):
    """Resolution of plain scalars is memoised: config files repeat the same words endlessly."""

    _cache: dict[str, str] = {}  # noqa: RUF012  shared on purpose, bounded below

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode and implicit[0]:
            tag = self._cache.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(self._cache) < 100_000:
                    self._cache[value] = tag
            return tag
        return super().resolve(kind, value, implicit)


if _Parser is not None:

    class _CComposer(_Parser, _Composer):  # type: ignore[misc]
        def __init__(self, text: str) -> None:
            _Parser.__init__(self, text)
            _Composer.__init__(self, version=(1, 2), loadumper=self)


def _compose(text: str, source: str) -> Node | None:
    nodes = _compose_nodes(text, source, single=True)
    return nodes[0] if nodes else None


def _compose_all(text: str, source: str) -> list[Node]:
    return _compose_nodes(text, source, single=False)


def _c_compose(text: str, single: bool) -> list[Node]:
    parser = _CComposer(text)
    if single:
        node = parser.get_single_node()
        return [node] if node is not None else []
    nodes = []
    while parser.check_node():
        nodes.append(parser.get_node())
    return nodes


# Deeper nesting is refused before parsing: libyaml's recursive parser overflows the C stack
# (a crash, not an error) somewhere past 10,000 levels, and our builder stops at ~900 anyway.
MAX_DEPTH = 800
_FLOW_CHARS = re.compile(r"[\[\]{}\"'\n]")
_DEEP_INDENT = re.compile(rf"^[ ]{{{MAX_DEPTH * 2},}}\S", re.M)


def _nesting_problem(text: str, source: str) -> InputError | None:
    def error(line: int, col: int) -> InputError:
        return InputError(
            f"nesting deeper than {MAX_DEPTH} levels",
            location=Location(source, line, col),
            hint="flatten the document",
        )

    deep = _DEEP_INDENT.search(text)
    if deep is not None:
        return error(text.count("\n", 0, deep.start()) + 1, 1)
    if text.count("[") + text.count("{") + text.count("- ") < MAX_DEPTH:
        return None
    depth, quote = 0, ""
    for match in _FLOW_CHARS.finditer(text):  # only brackets, quotes and line ends: fast
        ch = match.group()
        if ch == "\n":
            continue
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            # A quote opens a quoted scalar only where a token starts; "don't" is plain text.
            start = match.start()
            if start == 0 or text[start - 1] in " \t\n[{,:-?":
                quote = ch
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                return error(line, match.start() - text.rfind("\n", 0, match.start()))
        else:
            depth = max(0, depth - 1)
    for number, row in enumerate(text.splitlines(), start=1):
        stripped = row.lstrip(" ")
        if stripped.startswith("- ") and stripped.count("- ") > MAX_DEPTH:
            run = len(stripped) - len(stripped.lstrip("- "))
            if run // 2 > MAX_DEPTH:
                return error(number, 1)
    return None


def _compose_nodes(text: str, source: str, *, single: bool) -> list[Node]:
    problem = _nesting_problem(text, source)
    if problem is not None:
        raise problem
    try:
        if _Parser is not None and "%YAML" not in text:
            try:
                return _c_compose(text, single)
            except MarkedYAMLError:
                # libyaml follows YAML 1.1 in a few corners ("[a:1]" in flow context); the
                # pure parser is the YAML 1.2 authority and gives the better message.
                pass
        yaml = ruamel.yaml.YAML(typ="safe", pure=True)
        if single:
            node = yaml.compose(io.StringIO(text))
            return [node] if node is not None else []
        return [n for n in yaml.compose_all(io.StringIO(text)) if n is not None]
    except MarkedYAMLError as exc:
        raise _parse_error(exc, text, source) from None
    except YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", location=Location(source)) from None
    except RecursionError:
        raise InputError(
            "nesting too deep to read", location=Location(source), hint="flatten the document"
        ) from None


def _parse_error(exc: MarkedYAMLError, text: str, source: str) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    col = mark.column + 1 if mark else None
    problem = (exc.problem or exc.context or "invalid YAML").strip()
    hint = None
    if "another document" in problem:
        problem = "holds more than one YAML document"
        hint = "cfgctl reads one document per file: remove the '---' separator or split the file"
    elif mark is not None:
        lines = text.splitlines()
        bad = lines[mark.line] if mark.line < len(lines) else ""
        if "\t" in bad[: max(mark.column, 0) + 1] or bad.lstrip(" ").startswith("\t"):
            problem = "tab character in indentation"
            hint = "YAML allows only spaces for indentation: replace the tabs with spaces"
        elif "cannot start any token" in problem:
            hint = "quote the value if it is meant as text"
        elif "mapping values are not allowed" in problem:
            hint = "a value holding ': ' must be quoted; or check the indentation"
        elif "could not find expected ':'" in problem or "expected <block end>" in problem:
            hint = "check the indentation of this line and the one before"
    if exc.context and exc.context.strip() != problem and "another document" not in problem:
        problem = f"{problem} ({exc.context.strip()})"
    hint = hint or "fix the YAML at this position: check quotes, brackets, colons and indentation"
    return InputError(f"invalid YAML: {problem}", location=Location(source, line, col), hint=hint)


class _Builder:
    """Builds plain data from composed nodes, enforcing the strict rules of the module."""

    def __init__(self, source: str, *, positions: bool) -> None:
        self.source = source
        self.budget = NODE_BUDGET
        self.warnings: list[tuple[JsonPath, str]] = []
        self.track = positions
        self.positions: dict[JsonPath, tuple[int, int]] = {}
        self.key_positions: dict[JsonPath, tuple[int, int]] = {}
        self._active: set[int] = set()

    def _error(self, node: Node, message: str, hint: str | None = None) -> InputError:
        mark = node.start_mark
        return InputError(
            message, location=Location(self.source, mark.line + 1, mark.column + 1), hint=hint
        )

    def build(self, node: Node | None) -> Any:
        if node is None:
            return None
        try:
            return self._node(node, ())
        except RecursionError:
            raise self._error(node, "nesting too deep to read", "flatten the document") from None

    def _node(self, node: Node, path: JsonPath) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise self._error(
                node,
                f"document expands to more than {NODE_BUDGET:,} nodes (an alias bomb?)",
                "use fewer nested aliases (*name), or split the file",
            )
        if self.track:
            self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._active:
            raise self._error(
                node,
                "an alias refers to the node that contains it",
                "a node cannot hold an alias (*name) of its own anchor (&name)",
            )
        self._active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            if isinstance(node, SequenceNode):
                self._check_tag(node, "seq")
                return [self._node(item, (*path, i)) for i, item in enumerate(node.value)]
        finally:
            self._active.discard(id(node))
        raise self._error(node, f"unsupported YAML node {type(node).__name__}")  # pragma: no cover

    def _check_tag(self, node: Node, kind: str) -> None:
        tag = str(node.tag)
        if tag not in (_TAG + kind, "!") and not (kind == "map" and tag == _TAG + "omap"):
            raise self._error(
                node,
                f"unsupported tag {tag.replace(_TAG, '!!')}",
                "cfgctl reads plain YAML data: remove the tag",
            )

    def _mapping(self, node: MappingNode, path: JsonPath) -> dict[str, Any]:
        self._check_tag(node, "map")
        out: dict[str, Any] = {}
        merged: list[tuple[Node, Any]] = []
        seen: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and str(key_node.tag) == _TAG + "merge":
                merged.append((key_node, value_node))
                continue
            if not isinstance(key_node, ScalarNode):
                raise self._error(
                    key_node,
                    "a key must be a plain value, not a list or mapping",
                    "write the key as text",
                )
            key = str(key_node.value)
            if key in seen:
                first = seen[key].start_mark.line + 1
                raise self._error(
                    key_node,
                    f"duplicate key {key!r} (first defined on line {first})",
                    "remove one of the two; YAML keys must be unique in a mapping",
                )
            seen[key] = key_node
            child = (*path, key)
            if self.track:
                self.key_positions[child] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
            out[key] = self._node(value_node, child)
        for key_node, value_node in merged:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for src in sources:
                value = self._node(src, path)
                if not isinstance(value, dict):
                    raise self._error(
                        key_node, "a merge key (<<) takes a mapping or a list of them"
                    )
                for k, v in value.items():
                    out.setdefault(k, v)
        return out

    def _scalar(self, node: ScalarNode, path: JsonPath) -> Any:
        tag = str(node.tag)
        value: str = node.value
        if tag == _TAG + "str" or tag == "!":
            if not node.style and value in _YAML11_BOOLS:
                meaning = "true" if value.lower() in ("yes", "on", "y") else "false"
                self.warnings.append(
                    (
                        path,
                        f"{value!r} is the string {value!r} in YAML 1.2 (YAML 1.1 read it as "
                        f"{meaning}); write {meaning} for a boolean, or quote it to keep the text",
                    )
                )
            if not node.style and _SEXAGESIMAL_11.match(value):
                self.warnings.append(
                    (
                        path,
                        f"{value!r} is the string {value!r} in YAML 1.2 (YAML 1.1 read it as a "
                        "base-60 number); quote it to make the intent clear",
                    )
                )
            return value
        if tag == _TAG + "int":
            try:
                number = _to_int(value)
            except ValueError:  # "_" or "0x": the resolver's pattern is looser than a number
                return value
            if _OCTAL_11.match(value):
                self.warnings.append(
                    (
                        path,
                        f"{value} is the number {number} in YAML 1.2 (YAML 1.1 read it as octal "
                        f"{int(value.lstrip('+-'), 8)}); write 0o{value.lstrip('+-0')} for octal, "
                        "or quote it to keep the text",
                    )
                )
            return number
        if tag == _TAG + "bool":
            return value.lower() == "true"
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "float":
            try:
                return _to_float(value)
            except ValueError:  # "." or "._": the resolver's pattern is looser than a number
                return value
        if tag in (_TAG + "timestamp", _TAG + "binary"):
            return value
        raise self._error(
            node,
            f"unsupported tag {tag.replace(_TAG, '!!')}",
            "cfgctl reads plain YAML data: remove the tag or quote the value",
        )


def _to_int(text: str) -> int:
    s = text.replace("_", "")
    sign = -1 if s.startswith("-") else 1
    s = s.lstrip("+-")
    if s.startswith("0x"):
        return sign * int(s[2:], 16)
    if s.startswith("0o"):
        return sign * int(s[2:], 8)
    if s.startswith("0b"):
        return sign * int(s[2:], 2)
    return sign * int(s)


def _to_float(text: str) -> float:
    s = text.replace("_", "").lower()
    if s.endswith(".inf"):
        return float("-inf") if s.startswith("-") else float("inf")
    if s.endswith(".nan"):
        return float("nan")
    return float(s)


# --- round trip ---------------------------------------------------------------------------------


def _roundtrip_yaml() -> ruamel.yaml.YAML:
    yaml = ruamel.yaml.YAML()  # round-trip: comments, order and quoting survive
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load_roundtrip(data: bytes | str, source: str) -> Any:
    """Load for editing: ruamel.yaml's CommentedMap, which keeps comments and order."""
    parse(data, source)  # the strict rules first, with their messages
    return _roundtrip_yaml().load(decode(data, source))


def _indents(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) of a YAML text, ruamel's defaults (2, 4, 2)
    when it shows none."""
    mapping = sequence = offset = None
    lines = text.splitlines()
    for prev, line in itertools.pairwise(lines):
        head = prev.rstrip()
        if not head.endswith(":") or head.lstrip().startswith("#"):
            continue
        base = len(prev) - len(prev.lstrip(" "))
        body = line.lstrip(" ")
        step = len(line) - len(body) - base
        if not body or body.startswith("#") or step < 0:
            continue
        if body.startswith("- "):
            if offset is None:
                offset = step
                dash_body = body[2:]
                sequence = step + 2 + (len(dash_body) - len(dash_body.lstrip(" ")))
        elif mapping is None and step > 0:
            mapping = step
        if mapping is not None and offset is not None:
            break
    return (mapping or 2, sequence or 4, offset if offset is not None else 2)


def dump_roundtrip(data: Any, *, like: str = "") -> str:
    """Dump round-trip data; with `like`, in that text's indentation and line endings."""
    yaml = _roundtrip_yaml()
    mapping, sequence, offset = _indents(like)
    yaml.indent(mapping=mapping, sequence=max(sequence, offset + 2), offset=offset)
    stream = io.StringIO()
    yaml.dump(data, stream)
    out = stream.getvalue()
    if "\r\n" in like:
        out = out.replace("\r\n", "\n").replace("\n", "\r\n")
    return out


def is_ambiguous(text: str) -> bool:
    """Whether a YAML 1.1 reader would take this plain string for a boolean, number or null."""
    return bool(
        text in _YAML11_BOOLS
        or _OCTAL_11.match(text)
        or _SEXAGESIMAL_11.match(text)
        or text.lower() in ("null", "~", "true", "false", "")
    )


def dump_plain(data: Any) -> str:
    """Plain block-style YAML for output (render), keys in their order."""
    yaml = ruamel.yaml.YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.allow_unicode = True
    yaml.representer.add_representer(str, _represent_str)
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def _represent_str(representer: Any, data: str) -> Any:
    # Quote what YAML 1.1 readers (PyYAML, kubectl, Flux) would read as a boolean or number.
    style = "'" if is_ambiguous(data) else None
    return representer.represent_scalar("tag:yaml.org,2002:str", data, style=style)


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
    text = decode(data, source) if isinstance(data, bytes) else data
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
