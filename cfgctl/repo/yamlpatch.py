"""Line edits of a YAML text: turn what a file reads as into other data by changing only the lines
that must change.

The round-trip writer (`yamlwrite`) keeps comments, but it reads and writes the whole file with
ruamel.yaml's pure-Python parser and emitter (about 10 ms for a 100-line file) and normalises its
indentation. A migration or a promotion of thousands of files changes a few keys in each: this
module edits those lines in place (a key renamed on its line, a scalar replaced after its colon,
a block of lines removed, new keys appended at the end of their mapping in the file's own
indentation), so every other byte, comment and blank line stays as it was.

    text = patch_text(old_text, "config/prod/web.yaml", old_data, new_data)
    if text is None:   # a flow mapping, an anchor, a document marker: use yamlwrite instead
        ...

Every result is parsed again and compared with the data asked for, types included; anything this
module cannot edit safely, or an edit that would not read back as asked, gives None, never a
wrong file.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from typing import Any

from cfgctl.errors import CfgctlError
from cfgctl.repo.yamlio import Document, JsonPath, parse, same_data
from cfgctl.repo.yamlwrite import (
    dump_plain,
    dump_roundtrip,
    indents,
    is_ambiguous,
    load_roundtrip,
)

__all__ = ["edit_document", "edit_text", "patch_text"]

# Anchors, aliases, merge keys, tags, directives and document markers: a line edit could change
# what other lines mean.
_UNSAFE = re.compile(r"(?m)(?:^|[\s\[{,])[&*!][^\s]|<<\s*:|^(?:---|\.\.\.|%)|\t")
_KEY = re.compile(
    r"""^(?P<indent> *)(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{\[?&*!|>%@`-][^#]*?"""
    r"""|-[^\s#][^#]*?)(?P<colon>[ ]*:)(?=[ ]|$)"""
)
_SCALAR = re.compile(
    r"""^(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{\[&*!|>][^#]*?)"""
    r"""(?P<rest>[ ]+#.*|[ ]*)$"""
)
_FLOW_SCALAR = re.compile(
    r"""^(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{\[&*!|>,\]}][^#,\]}]*?)"""
    r"""(?=[ ]*(?:[,\]}]|#|$))"""
)
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")


def edit_text(
    before: bytes,
    source: str,
    old: Any,
    new: Any,
    moved: Mapping[JsonPath, JsonPath] | None = None,
) -> bytes:
    """`before` (which reads as `old`) changed to read as `new`, comments kept: line edits
    (`patch_text`), or ruamel.yaml's round trip where line edits cannot go."""
    return edit_document(before, source, old, new, moved).text.encode()


def edit_document(
    before: bytes,
    source: str,
    old: Any,
    new: Any,
    moved: Mapping[JsonPath, JsonPath] | None = None,
) -> Document:
    """`edit_text`, as the parsed document of the new text (its reading is done already)."""
    text = before.decode("utf-8-sig")
    patched = _patched(text, source, old, new, moved)
    if patched is not None:
        return patched
    doc = load_roundtrip(before, source) if before.strip() else None
    if not isinstance(doc, dict) or not isinstance(new, dict):
        return parse(dump_plain(new), source)
    _sync(doc, new)
    return parse(dump_roundtrip(doc, like=text), source)


def _sync(doc: Any, new: dict[str, Any]) -> None:
    """Make a round-trip mapping hold `new`, keeping the keys (and comments) it shares."""
    for key in [k for k in doc if k not in new]:
        del doc[key]
    for key, value in new.items():
        current = doc.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            _sync(current, value)
        elif key not in doc or not same_data(current, value):
            doc[key] = value


class _Unsupported(Exception):
    """An edit outside what line edits do safely."""


def patch_text(
    text: str,
    source: str,
    old: Any,
    new: Any,
    moved: Mapping[JsonPath, JsonPath] | None = None,
) -> str | None:
    """`text` (which reads as `old`) edited to read as `new`, or None when line edits cannot
    do it safely. Both must be mappings. `moved` maps a path of `new` to the path of `old` its
    value comes from (a rename or move): the value's lines travel with it, comments included."""
    doc = _patched(text, source, old, new, moved)
    return doc.text if doc is not None else None


def _patched(
    text: str, source: str, old: Any, new: Any, moved: Mapping[JsonPath, JsonPath] | None
) -> Document | None:
    if not isinstance(old, dict) or not isinstance(new, dict) or _UNSAFE.search(text):
        return None
    try:
        patch = _Patch(text, source, old, moved or {})
        patch.mapping((), old, new)
        doc = parse(patch.result(), source)
    except (_Unsupported, CfgctlError):
        return None
    return doc if same_data(doc.data, new) else None


class _Patch:
    def __init__(
        self, text: str, source: str, old: dict[str, Any], moved: Mapping[JsonPath, JsonPath]
    ) -> None:
        self.old = old
        self.moved = moved
        self.step = indents(text)[0]
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.lines = text.splitlines(keepends=True)
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines[-1] += self.newline
        self.doc = Document(source, text, old)  # the parser's positions, found on first use
        self.keys = _block_keys(self.lines)  # a quicker guess, checked by the result's reading
        self.edits: list[tuple[int, int, list[str]]] = []

    # --- where things are ---------------------------------------------------------------------

    def _key_line(self, path: JsonPath) -> tuple[int, int]:
        """(0-based line, indent) of the key of `path`, which must start its line."""
        found = self.keys.get(path) or self.doc.position(path, key=True)
        if found is None:
            raise _Unsupported(path)
        line, col = found
        if self.lines[line - 1][: col - 1].strip():
            raise _Unsupported(path)  # a key after `- ` or `? `: not a line of its own
        return line - 1, col - 1

    def _block_end(self, start: int, indent: int, is_list: bool) -> int:
        """One past the last line of the block that starts at `start` (its trailing comments
        and blank lines excluded)."""
        last = start
        for i in range(start + 1, len(self.lines)):
            body = self.lines[i].strip()
            if not body or body.startswith("#"):
                continue
            depth = len(self.lines[i]) - len(self.lines[i].lstrip(" "))
            if depth < indent or (depth == indent and not (is_list and body.startswith("-"))):
                break
            last = i
        return last + 1

    def _content_end(self) -> int:
        for i in range(len(self.lines) - 1, -1, -1):
            body = self.lines[i].strip()
            if body and not body.startswith("#"):
                return i + 1
        return 0

    def _children(self, path: JsonPath, old: dict[str, Any]) -> tuple[int, int]:
        """(indent of the mapping's keys, the line after its last one) of a block mapping."""
        if not path:
            if not old:
                return 0, self._content_end()
            return self._key_line((next(iter(old)),))[1], self._content_end()
        if not old:
            raise _Unsupported(path)  # `{}`: a flow mapping
        start, indent = self._key_line(path)
        first_line, child = self._key_line((*path, next(iter(old))))
        if first_line <= start or child <= indent:
            raise _Unsupported(path)  # `key: {a: 1}`: a flow mapping
        return child, self._block_end(start, indent, False)

    # --- the edits ----------------------------------------------------------------------------

    def mapping(self, path: JsonPath, old: dict[str, Any], new: dict[str, Any]) -> None:
        renames = _renames(old, new)
        if old.keys() == new.keys():  # values only: a flow mapping will do
            indent = end = 0
        else:
            indent, end = self._children(path, old)
        for key, value in old.items():
            child = (*path, key)
            if key in renames:
                self._rename(child, renames[key])
            elif key not in new:
                self._delete(child, value)
            elif value == new[key]:
                continue  # (1 == True: a change of type alone fails the final reading)
            elif isinstance(value, dict) and isinstance(new[key], dict) and value:
                self.mapping(child, value, new[key])  # a flow one: the round trip
            else:
                self._replace(child, value, new[key])
        renamed = set(renames.values())
        added = [
            line
            for key, value in new.items()
            if key not in old and key not in renamed
            for line in self._added(path, key, value, indent)
        ]
        if added:
            self.edits.append((end, end, added))

    def _added(self, path: JsonPath, key: str, value: Any, indent: int) -> list[str]:
        """The lines of a new key: a moved value's own lines, else freshly written ones."""
        here = (*path, key)
        source = self.moved.get(here)
        if source is not None:
            carried = self._carried(source, key, value, indent)
            if carried is not None:
                return carried
        if isinstance(value, dict) and value and any(p[: len(here)] == here for p in self.moved):
            lines = [" " * indent + _key_text(key) + ":" + self.newline]
            for child, sub in value.items():
                lines += self._added(here, child, sub, indent + self.step)
            return lines
        return self._dumped({key: value}, indent)

    def _carried(self, source: JsonPath, key: str, value: Any, indent: int) -> list[str] | None:
        """The lines of `source` in the old text, re-indented and renamed to `key`."""
        found, old = _lookup(self.old, source)
        if not found or not same_data(old, value):
            return None
        try:
            start, depth = self._key_line(source)
        except _Unsupported:
            return None
        end = self._block_end(start, depth, isinstance(value, list))
        lines = []
        for line in self.lines[start:end]:
            margin = len(line) - len(line.lstrip(" "))
            lines.append(line if not line.strip() else " " * indent + line[min(margin, depth) :])
        match = _KEY.match(lines[0])
        if match is None:
            return None
        lines[0] = lines[0][: match.start("key")] + _key_text(key) + lines[0][match.end("key") :]
        return lines

    def _delete(self, path: JsonPath, value: Any) -> None:
        start, indent = self._key_line(path)
        self.edits.append((start, self._block_end(start, indent, isinstance(value, list)), []))

    def _rename(self, path: JsonPath, new_key: str) -> None:
        start, _ = self._key_line(path)
        line = self.lines[start]
        match = _KEY.match(line)
        if match is None:
            raise _Unsupported(path)
        text = line[: match.start("key")] + _key_text(new_key) + line[match.end("key") :]
        self.edits.append((start, start + 1, [text]))

    def _replace(self, path: JsonPath, old: Any, new: Any) -> None:
        scalar = not isinstance(old, dict | list) and not isinstance(new, dict | list)
        if scalar and self._replace_scalar(path, new):
            return
        start, indent = self._key_line(path)  # a whole block, written again
        end = self._block_end(start, indent, isinstance(old, list))
        dumped = self._dumped({path[-1]: new}, 0)
        self.edits.append((start, end, [self.lines[start][:indent] + x for x in dumped]))

    def _replace_scalar(self, path: JsonPath, new: Any) -> bool:
        """A one-line scalar replaced where it stands (in a block or a flow mapping), the rest
        of its line (a comment, the next flow entries) kept."""
        found = self.doc.position(path)
        key = self.doc.position(path, key=True)
        if found is None or key is None or found[0] != key[0]:
            return False
        row, col = found[0] - 1, found[1] - 1
        line = self.lines[row]
        flow = line[: key[1] - 1].rstrip().endswith(("{", ","))
        match = (_FLOW_SCALAR if flow else _SCALAR).match(line[col:].rstrip("\r\n"))
        dumped = self._dumped({path[-1]: new}, 0)
        if match is None or len(dumped) != 1 or self._continues(row, line):
            return False
        body = dumped[0].rstrip("\r\n").split(": ", 1)[1]
        text = line[:col] + body + line[col + match.end("value") :]
        self.edits.append((row, row + 1, [text]))
        return True

    def _continues(self, row: int, line: str) -> bool:
        """Whether the next content line is deeper than `line` (a multi-line scalar)."""
        margin = len(line) - len(line.lstrip(" "))
        return self._block_end(row, margin + 1, False) > row + 1

    def _dumped(self, data: Mapping[Any, Any], indent: int) -> list[str]:
        if len(data) == 1:
            ((key, value),) = data.items()
            quick = _plain_scalar(value)
            if quick is not None and _PLAIN_KEY.match(str(key)) and not is_ambiguous(str(key)):
                return [" " * indent + f"{key}: {quick}{self.newline}"]
        lines = dump_plain(dict(data)).splitlines()
        return [(" " * indent + x if x else x) + self.newline for x in lines]

    def result(self) -> str:
        spans = sorted(self.edits, key=lambda e: (e[0], e[1]))
        if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans)):
            raise _Unsupported("overlapping edits")
        out: list[str] = []
        at = 0
        for start, end, new in spans:  # one pass: thousands of edits of one file stay linear
            out += self.lines[at:start]
            out += new
            at = end
        out += self.lines[at:]
        return "".join(out)


_SAFE_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./@+-]*$")


def _plain_scalar(value: Any) -> str | None:
    """How a simple scalar is written, without the emitter (a thousand times quicker); None for
    anything else. A wrong guess would fail the result's reading, never pass it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and _SAFE_PLAIN.match(value) and not is_ambiguous(value):
        return value
    return None


def _block_keys(lines: list[str]) -> dict[JsonPath, tuple[int, int]]:
    """1-based (line, column) of each key of the block mappings outside sequences, found from
    the indentation of the lines alone (block scalars, flow collections and sequences are
    stepped over). A line misread here gives an edit whose result does not read back as asked,
    which patch_text refuses."""
    found: dict[JsonPath, tuple[int, int]] = {}
    stack: list[tuple[int, str]] = []
    skip_deeper = -1
    for number, line in enumerate(lines, 1):
        body = line.lstrip(" ")
        if not body.strip() or body.startswith("#"):
            continue
        depth = len(line) - len(body)
        if skip_deeper >= 0 and depth > skip_deeper:
            continue
        skip_deeper = -1
        while stack and stack[-1][0] >= depth:
            stack.pop()
        match = _KEY.match(line)
        if match is None:
            skip_deeper = depth  # a sequence item or a continuation: not followed below
            continue
        key = _unquoted(match["key"].rstrip())
        stack.append((depth, key))
        found[tuple(k for _, k in stack)] = (number, depth + 1)
        rest = line[match.end("colon") :].strip()
        if rest[:1] in ("|", ">", "{", "[", "&", "*", "!", '"', "'"):
            skip_deeper = depth  # its value's lines are not keys
    return found


def _unquoted(key: str) -> str:
    if key[:1] == '"':
        try:
            return str(json.loads(key))
        except ValueError:  # a YAML escape JSON lacks: let the parser's positions decide
            return key
    if key[:1] == "'":
        return key[1:-1].replace("''", "'")
    return key


def _lookup(data: Any, path: JsonPath) -> tuple[bool, Any]:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return False, None
        data = data[part]
    return True, data


def _renames(old: dict[str, Any], new: dict[str, Any]) -> dict[str, str]:
    """Keys of `old` that `new` has under another name at the same place among the keys both
    share (a rename in place), with the same value."""
    out: dict[str, str] = {}
    new_keys = list(new)
    for key, value in old.items():
        if key in new:
            continue
        before = _shared_before(list(old), key, new)
        for candidate in new_keys:
            if candidate in old or candidate in out.values():
                continue
            if _shared_before(new_keys, candidate, old) == before and value == new[candidate]:
                out[key] = candidate
                break
    return out


def _shared_before(keys: list[str], key: str, other: Mapping[str, Any]) -> str | None:
    """The last key before `key` in `keys` that `other` has too."""
    shared = [k for k in keys[: keys.index(key)] if k in other]
    return shared[-1] if shared else None


def _key_text(key: str) -> str:
    if _PLAIN_KEY.match(key) and not re.fullmatch(r"[0-9._+-]+|[yYnN]|true|false|null|~", key):
        return key
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
