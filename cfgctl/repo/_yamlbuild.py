"""How `cfgctl.repo.yamlio` reads YAML: nodes composed with the C parser, plain data built by a
constructor that holds the strict rules (one document, no duplicate or non-scalar keys, no unknown
tags, an expansion budget against alias bombs, YAML 1.1 look-alikes warned about).

Private to cfgctl.repo: use `cfgctl.repo.yamlio.parse`.
"""

from __future__ import annotations

import io
import re
from typing import Any

import ruamel.yaml
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from cfgctl.errors import InputError, Location
from cfgctl.repo import _yamlcheck

try:  # the C scanner and parser: ~6x faster than the pure-Python ones
    from _ruamel_yaml import CParser as _Parser  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - ruamel.yaml.clib is a declared dependency
    _Parser = None

JsonPath = tuple[str | int, ...]

# The most nodes one document may expand to, aliases counted every time they are used. A config
# file of 10,000 lines has ~20,000; a "billion laughs" file would expand to 10^9.
NODE_BUDGET = 1_000_000

YAML11_BOOLS = frozenset(
    s for w in ("yes", "no", "on", "off", "y", "n") for s in (w, w.capitalize(), w.upper())
)
_TAG = "tag:yaml.org,2002:"
OCTAL_11 = re.compile(r"^[-+]?0[0-7]+$")
SEXAGESIMAL_11 = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")


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


def compose(text: str, source: str) -> Node | None:
    nodes = _compose_nodes(text, source, single=True)
    return nodes[0] if nodes else None


def compose_all(text: str, source: str) -> list[Node]:
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
_DEEP_SPACES = " " * (MAX_DEPTH * 2)


def _nesting_problem(text: str, source: str) -> InputError | None:
    """Nesting deeper than MAX_DEPTH (by indentation, flow brackets or `- - -` runs), or None."""
    # The substring test first: a regular-expression search over every line start costs 10x more.
    deep = _DEEP_INDENT.search(text) if _DEEP_SPACES in text else None
    if deep is not None:
        where: tuple[int, int] | None = (text.count("\n", 0, deep.start()) + 1, 1)
    elif text.count("[") + text.count("{") + text.count("- ") < MAX_DEPTH:
        return None
    else:
        where = _deep_flow(text) or _deep_dashes(text)
    if where is None:
        return None
    return InputError(
        f"nesting deeper than {MAX_DEPTH} levels",
        location=Location(source, *where),
        hint="flatten the document",
    )


def _deep_flow(text: str) -> tuple[int, int] | None:
    """Where flow brackets (`[`, `{`) nest past MAX_DEPTH, quoted text left out."""
    depth, quote = 0, ""
    for match in _FLOW_CHARS.finditer(text):  # only brackets, quotes and line ends: fast
        ch, start = match.group(), match.start()
        if ch == "\n":
            continue
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            # A quote opens a quoted scalar only where a token starts; "don't" is plain text.
            if start == 0 or text[start - 1] in " \t\n[{,:-?":
                quote = ch
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return text.count("\n", 0, start) + 1, start - text.rfind("\n", 0, start)
        else:
            depth = max(0, depth - 1)
    return None


def _deep_dashes(text: str) -> tuple[int, int] | None:
    """Where a run of `- - - ...` on one line nests sequences past MAX_DEPTH."""
    for number, row in enumerate(text.splitlines(), start=1):
        stripped = row.lstrip(" ")
        if stripped.startswith("- ") and stripped.count("- ") > MAX_DEPTH:
            run = len(stripped) - len(stripped.lstrip("- "))
            if run // 2 > MAX_DEPTH:
                return number, 1
    return None


# A %YAML directive of a later 1.x: the spec says to read it as 1.2, with a warning (ruamel.yaml
# knows only 1.1 and 1.2 and fails an assertion on others).
_LATER_VERSION = re.compile(r"^%YAML[ \t]+1\.(?:[3-9]|[1-9][0-9]+)(?=[ \t#\r\n]|$)", re.M)


def _prepare(text: str, source: str) -> str:
    """The text the parsers read: refused when invalid YAML 1.2 in a way they would accept."""
    problem = _nesting_problem(text, source)
    if problem is not None:
        raise problem
    if _yamlcheck.suspect(text):
        _yamlcheck.check(text, source)
        text = _LATER_VERSION.sub(lambda m: "%YAML 1.2" + " " * (len(m.group()) - 9), text)
    if text.endswith(" ") and text.rstrip(" ").endswith("\n"):
        # A last line of spaces without its line break: libyaml drops it (spec: it is content).
        text += "\n"
    return text


def _compose_nodes(text: str, source: str, *, single: bool) -> list[Node]:
    text = _prepare(text, source)
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


class Builder:
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
            if not node.style and value in YAML11_BOOLS:
                meaning = "true" if value.lower() in ("yes", "on", "y") else "false"
                self.warnings.append(
                    (
                        path,
                        f"{value!r} is the string {value!r} in YAML 1.2 (YAML 1.1 read it as "
                        f"{meaning}); write {meaning} for a boolean, or quote it to keep the text",
                    )
                )
            if not node.style and SEXAGESIMAL_11.match(value):
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
            if OCTAL_11.match(value):
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
