"""A three-way merge of YAML documents as data, key by key, written into the service's own file
with comment-keeping edits (cruft's idea for cookiecutter, on data rather than lines).

    merged = merge_file("config/base/billing.yaml", base=old_output, ours=current, theirs=new)
    merged.result      # the new bytes of the file (None: the file goes), or `current` unchanged
    merged.changes     # what the template's change did to it ("added server.timeout_seconds")
    merged.conflicts   # keys the service changed and the template changed differently

For each key the old output (`base`) or the new one (`theirs`) holds: when the template did not
change it, the service's value stays, whatever it is; when the service did not change it (its
value equals the old output's), the template's change is applied (set, added where the new
output places it, or removed); when both made the same change, nothing is left to do; mappings
on every side are merged key by key; anything else is a conflict. Keys the service added are
never touched. The template's change is applied to the service's round-trip document, so its
comments, order and quoting stay; a value taken from the template keeps the template's comments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap

from cfgctl.changes.diff import same_data
from cfgctl.errors import Location
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.yamlio import JsonPath, parse
from cfgctl.repo.yamlwrite import dump_roundtrip, load_roundtrip

__all__ = ["MISSING", "Conflict", "FileMerge", "merge_file"]


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


MISSING: Any = _Missing()


def _same(a: Any, b: Any) -> bool:
    if a is MISSING or b is MISSING:
        return a is b
    return same_data(a, b)


def _show(value: Any) -> str:
    if value is MISSING:
        return "absent"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = repr(value) if isinstance(value, str) else str(value).lower() if value is None else None
    text = text or str(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class Conflict:
    """A key the service changed and the template changed otherwise."""

    file: str
    path: JsonPath
    base: Any
    ours: Any
    theirs: Any
    location: Location

    @property
    def key(self) -> str:
        return dotted_path(self.path)

    def describe(self) -> str:
        return (
            f"{self.key}: the service has {_show(self.ours)}, the template changes "
            f"{_show(self.base)} to {_show(self.theirs)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "key": self.key, "message": self.describe()}


@dataclass
class FileMerge:
    rel: str
    ours: bytes | None
    result: bytes | None = None
    changes: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.result != self.ours


class _Merge:
    def __init__(self, rel: str, ours_text: bytes | None, prefer: str | None) -> None:
        self.rel = rel
        self.ours_text = ours_text
        self.prefer = prefer
        self.changes: list[str] = []
        self.conflicts: list[Conflict] = []

    def mapping(
        self, target: Any, base: dict[Any, Any], ours: dict[Any, Any], theirs: Any, source: Any
    ) -> None:
        """Merge into `target` (the service's round-trip mapping at `path`, whose plain data is
        `ours`) the template's change from `base` to `theirs` (`source`: its round-trip form)."""
        self._mapping(target, base, ours, theirs, source, ())

    def _mapping(
        self, target: Any, base: Any, ours: Any, theirs: Any, source: Any, path: JsonPath
    ) -> None:
        for key in dict.fromkeys([*base, *theirs]):
            b, t = base.get(key, MISSING), theirs.get(key, MISSING)
            if _same(b, t):
                continue
            o, sub = ours.get(key, MISSING), (*path, key)
            if (
                isinstance(o, dict)
                and isinstance(t, dict)
                and (b is MISSING or isinstance(b, dict))
            ):
                inner_base = {} if b is MISSING else b
                self._mapping(target[key], inner_base, o, t, source[key], sub)
            elif _same(o, b):
                self._take(target, key, source, t, o, sub)
            elif not _same(o, t):
                self._conflict(target, key, source, (b, o, t), sub)

    def _take(self, target: Any, key: Any, source: Any, t: Any, o: Any, path: JsonPath) -> None:
        if t is MISSING:
            del target[key]
            self.changes.append(f"removed {dotted_path(path)}")
        elif o is MISSING:
            target.insert(_position(target, source, key), key, source[key])
            comment = getattr(source, "ca", None)
            if comment is not None and key in comment.items:
                target.ca.items[key] = comment.items[key]  # the template's end-of-line comment
            self.changes.append(f"added {dotted_path(path)}")
        else:
            target[key] = source[key]
            self.changes.append(f"changed {dotted_path(path)}")

    def _conflict(
        self, target: Any, key: Any, source: Any, sides: tuple[Any, Any, Any], path: JsonPath
    ) -> None:
        b, o, t = sides
        if self.prefer == "theirs":
            self._take(target, key, source, t, o, path)
            return
        if self.prefer == "ours":
            return
        where = Location(self.rel)
        if self.ours_text is not None and o is not MISSING:
            where = parse(self.ours_text, self.rel).location(path)
        self.conflicts.append(Conflict(self.rel, path, b, o, t, where))


def _position(target: Any, source: Any, key: Any) -> int:
    """Where a key the template added goes: after the key before it in the template's output
    that the service's file holds too; first when there is none."""
    order = list(source)
    have = list(target)
    for before in reversed(order[: order.index(key)]):
        if before in target:
            return have.index(before) + 1
    return 0


def _data(text: bytes | None, rel: str) -> Any:
    return None if text is None else parse(text, rel).data


def merge_file(
    rel: str,
    *,
    base: bytes | None,
    ours: bytes | None,
    theirs: bytes | None,
    prefer: str | None = None,
) -> FileMerge:
    """The three-way merge of one file; `prefer` ("ours" or "theirs") settles conflicts."""
    merge = FileMerge(rel, ours, ours)
    b, o, t = _data(base, rel), _data(ours, rel), _data(theirs, rel)
    if ours is None:
        return _absent_here(merge, base, theirs, b, t, prefer)
    if not all(isinstance(x, dict) or x is None for x in (b, o, t)):
        return _whole(merge, (b, o, t), theirs, prefer)
    work = _Merge(rel, ours, prefer)
    target = load_roundtrip(ours, rel) if o is not None else CommentedMap()
    source = load_roundtrip(theirs, rel) if theirs is not None and t is not None else {}
    work.mapping(target, b or {}, o or {}, t or {}, source or {})
    merge.changes, merge.conflicts = work.changes, work.conflicts
    if theirs is None and not target:
        merge.result = None  # the template dropped the file, and nothing of the service's is left
    elif ours == base and theirs is not None:
        merge.result = theirs  # untouched since it was made: the template's file exactly
    elif work.changes:
        merge.result = dump_roundtrip(target, like=ours.decode("utf-8-sig")).encode()
    return merge


def _absent_here(
    merge: FileMerge,
    base: bytes | None,
    theirs: bytes | None,
    b: Any,
    t: Any,
    prefer: str | None,
) -> FileMerge:
    """The service has no such file: a new file of the template is created; one the service
    deleted stays deleted unless the template changed it (a conflict)."""
    if theirs is None:
        return merge
    if base is None:
        merge.result, merge.changes = theirs, ["created"]
    elif not _same(b, t):
        if prefer == "theirs":
            merge.result, merge.changes = theirs, ["created again"]
        elif prefer != "ours":
            merge.conflicts.append(Conflict(merge.rel, (), b, MISSING, t, Location(merge.rel)))
    return merge


def _whole(
    merge: FileMerge, sides: tuple[Any, Any, Any], theirs: bytes | None, prefer: str | None
) -> FileMerge:
    """Documents that are not mappings merge as one value."""
    b, o, t = sides
    if _same(b, t) or _same(o, t):
        return merge
    if _same(o, b) or prefer == "theirs":
        merge.result, merge.changes = theirs, ["replaced"]
    elif prefer != "ours":
        merge.conflicts.append(Conflict(merge.rel, (), b, o, t, Location(merge.rel)))
    return merge
