"""The work of `cfgctl promote` for one service: the keys that differ between two effective
configurations, and the fewest edits of the target's own files that make them equal
(see `cfgctl.operate.promote` for the rules).

    edits = Edits(snap)
    work = PairWork(snap, edits, "payments", "staging", "prod", globs)
    work.run(); work.moves(); work.skipped
    edits.final()            # {"config/prod/payments.yaml": b"...", ...} secrets encrypted
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from cfgctl.changes.diff import same_data
from cfgctl.errors import InputError
from cfgctl.operate.keyselect import KeyGlob, env_local_rules
from cfgctl.repo import sops
from cfgctl.repo.keypath import dotted_path, remove_in, set_in
from cfgctl.repo.render import Rendered, is_encrypted, lookup
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath, iter_leaves
from cfgctl.repo.yamlpatch import edit_text
from cfgctl.repo.yamlwrite import dump_plain

__all__ = ["Difference", "Edits", "KeyMove", "PairWork", "Skipped", "differences"]

Action = Literal["set", "unset"]
Reason = Literal["env-local", "inherited", "secret", "unresolved"]


@dataclass(frozen=True)
class KeyMove:
    service: str
    path: JsonPath
    action: Action
    file: str
    secret: bool = False
    value: Any = None  # None for a secret or an unset

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "service": self.service,
            "key": dotted_path(self.path),
            "action": self.action,
            "file": self.file,
            "secret": self.secret,
        }
        if self.action == "set" and not self.secret:
            out["value"] = self.value
        return out


@dataclass(frozen=True)
class Skipped:
    service: str
    path: JsonPath
    reason: Reason
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "key": dotted_path(self.path),
            "reason": self.reason,
            "detail": self.detail,
        }


_PASSES = 3  # an unset can reveal an inherited value, set in the next pass; a third finds none


@dataclass(frozen=True)
class Difference:
    path: JsonPath
    in_source: bool
    source: Any
    in_target: bool
    target: Any

    def below(self) -> Iterator[JsonPath]:
        """The path and every leaf path under it, on either side."""
        yield self.path
        for value in (self.source, self.target):
            if isinstance(value, dict):
                for sub, _ in iter_leaves(value):
                    yield (*self.path, *sub)


def differences(a: Any, b: Any, path: JsonPath = ()) -> Iterator[Difference]:
    """Where `b` differs from `a`: mappings (or a mapping and nothing) key by key, anything
    else as one value."""
    a = a if isinstance(a, dict) else {}
    b = b if isinstance(b, dict) else {}
    for key in [*a, *(k for k in b if k not in a)]:
        sub = (*path, key)
        in_a, in_b = key in a, key in b
        va, vb = a.get(key), b.get(key)
        # Two mappings merge key by key (an empty one too: it cannot hide what it merges
        # over); a mapping facing nothing too, unless it is empty (then it is the value).
        both = isinstance(va, dict) and isinstance(vb, dict)
        one = (isinstance(va, dict) and bool(va) and not in_b) or (
            isinstance(vb, dict) and bool(vb) and not in_a
        )
        if both or one:
            yield from differences(va, vb, sub)
        elif not (in_a and in_b and same_data(va, vb)):
            yield Difference(sub, in_a, va, in_b, vb)


@dataclass
class _File:
    rel: str
    tree: Any  # None: a secrets file no key at hand opens
    before: bytes
    secret: bool
    old: Any = None  # what a plain file reads as
    dirty: bool = False

    def text(self) -> bytes:
        """A plain file's bytes holding `tree`: only the lines that change are edited."""
        return edit_text(self.before, self.rel, self.old, self.tree)


class Edits:
    """The target's own files being edited, as data: plain files (written back by line edits,
    `cfgctl.repo.yamlpatch`), secrets files decrypted in memory."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.files: dict[str, _File] = {}

    def file(self, rel: str, secret: bool) -> _File:
        found = self.files.get(rel)
        if found is not None:
            return found
        ref = self.snap.files.get(rel)
        before = ref.read() if ref is not None else b""
        old: Any = {}
        if before.strip() and not secret:
            old = self.snap.document(rel).data
        tree = self._decrypted(before, rel) if secret and before.strip() else copy.deepcopy(old)
        if tree is not None and not isinstance(tree, dict):
            raise InputError(f"{rel} does not hold a mapping", hint="fix the file first")
        self.files[rel] = _File(rel, tree, before, secret, old)
        return self.files[rel]

    def _decrypted(self, before: bytes, rel: str) -> Any:
        doc = self.snap.document(rel)
        if not is_encrypted(doc.data):
            raise InputError(
                f"{rel} is not encrypted", hint=f"encrypt it first: cfgctl secrets encrypt {rel}"
            )
        try:
            return sops.decrypt(before, rel)  # in memory only
        except sops.NoKey:
            return None

    def trial(self) -> Snapshot:
        """The snapshot with the edits so far; secrets in plain text, so never cached (nothing
        of it reaches the disk)."""
        changed = {
            rel: dump_plain(f.tree).encode() if f.secret else f.text()
            for rel, f in self.files.items()
            if f.dirty
        }
        return self.snap.with_files(changed, cached=False) if changed else self.snap

    def final(self) -> dict[str, bytes]:
        """The bytes of every changed file, secrets files encrypted for their rule."""
        out: dict[str, bytes] = {}
        for rel, f in sorted(self.files.items()):
            if not f.dirty:
                continue
            if f.secret:
                out[rel] = sops.encrypt(dump_plain(f.tree).encode(), rel, self.snap.root)
            elif (after := f.text()) != f.before:
                out[rel] = after
        return out


def _unknown(rendered: Rendered, path: JsonPath) -> bool:
    """Whether a layer no key at hand opens sets `path` (its value is ciphertext here)."""
    for layer in rendered.encrypted:
        doc = rendered.docs[rendered.layers.index(layer)]
        if any(lookup(doc.data, p)[0] for p in _prefixes(path)):
            return True
    return False


def _prefixes(path: JsonPath) -> list[JsonPath]:
    return [path[:n] for n in range(1, len(path) + 1)]


class PairWork:
    """One service promoted from `source` to `target`."""

    def __init__(
        self,
        snap: Snapshot,
        edits: Edits,
        service: str,
        source: str,
        target: str,
        globs: list[KeyGlob],
        *,
        secrets: bool = True,
    ) -> None:
        self.snap, self.edits, self.service = snap, edits, service
        self.secrets = secrets  # False: a secret is skipped, never moved
        self.source, self.target, self.globs = source, target, globs
        self.rules = env_local_rules(snap, service)
        self.matched: set[str] = set()
        self.skipped: list[Skipped] = []
        self._moves: dict[JsonPath, KeyMove] = {}
        self._done: set[JsonPath] = set()  # skipped: not looked at again
        base = f"config/{target}/{service}"
        self.plain, self.secret = base + ".yaml", base + ".secrets.yaml"

    def moves(self) -> list[KeyMove]:
        return [self._moves[p] for p in sorted(self._moves, key=lambda p: tuple(map(str, p)))]

    def run(self) -> None:
        src = self.snap.render(self.service, self.source)
        tgt = self.snap.render(self.service, self.target)
        for glob in self.globs:
            if any(glob.matches(p) for data in (src.data, tgt.data) for p, _ in iter_leaves(data)):
                self.matched.add(glob.text)
        for _ in range(_PASSES):
            if not self._pass(src, self.edits.trial().render(self.service, self.target)):
                break
        for diff in self._todo(src, self.edits.trial().render(self.service, self.target)):
            self._skip(diff.path, "unresolved", "still differs after the promotion's edits")

    def _todo(self, src: Rendered, tgt: Rendered) -> list[Difference]:
        marked = self.rules.paths(src.data) | self.rules.paths(tgt.data)
        out = []
        for diff in differences(src.data, tgt.data):
            if diff.path in self._done or not self._chosen(diff):
                continue
            if any(self.rules.is_local(p, marked) for p in diff.below()):
                self._skip(diff.path, "env-local", "differs by environment on purpose")
                continue
            out.append(diff)
        return out

    def _chosen(self, diff: Difference) -> bool:
        return not self.globs or any(g.matches(p) for g in self.globs for p in diff.below())

    def _pass(self, src: Rendered, tgt: Rendered) -> bool:
        edited = False
        for diff in self._todo(src, tgt):
            secret = src.is_secret(diff.path) or tgt.is_secret(diff.path)
            if secret and not self.secrets:
                self._skip(diff.path, "secret", "secrets are not promoted here: set it on its own")
                continue
            if secret and (_unknown(src, diff.path) or _unknown(tgt, diff.path)):
                self._skip(diff.path, "secret", "no key at hand opens its secrets files")
                continue
            own = self._own_setter(diff.path, secret)
            if own is not None and self._inherits(tgt, diff, own.rel):
                remove_in(own.tree, diff.path)
                own.dirty = edited = True
                self._record(diff.path, "unset", own.rel, secret, None)
            elif diff.in_source:
                edited |= self._set(diff, secret)
            else:
                self._not_removable(tgt, diff.path)
        return edited

    def _own_setter(self, path: JsonPath, secret: bool) -> _File | None:
        """The target's own file of the service that sets `path` (its secrets file for a
        secret: a key a secrets layer sets is a secret)."""
        rel = self.secret if secret else self.plain
        if rel not in self.snap.files and rel not in self.edits.files:
            return None
        f = self.edits.file(rel, secret)
        return f if f.tree is not None and lookup(f.tree, path)[0] else None

    def _inherits(self, tgt: Rendered, diff: Difference, rel: str) -> bool:
        """Whether removing `diff.path` from `rel` leaves the target with the source's value."""
        others = [(layer, value) for layer, value, _ in tgt.setters(diff.path) if layer.path != rel]
        if not others:
            return not diff.in_source
        return diff.in_source and same_data(others[-1][1], diff.source)

    def _set(self, diff: Difference, secret: bool) -> bool:
        f = self.edits.file(self.secret if secret else self.plain, secret)
        if f.tree is None:
            self._skip(diff.path, "secret", f"no key at hand opens {f.rel}")
            return False
        set_in(f.tree, diff.path, copy.deepcopy(diff.source))
        f.dirty = True
        self._record(diff.path, "set", f.rel, secret, None if secret else diff.source)
        return True

    def _not_removable(self, tgt: Rendered, path: JsonPath) -> None:
        setters = [layer.path for layer, _, _ in tgt.setters(path)]
        where = ", ".join(setters) or "a layer the target inherits"
        self._skip(
            path,
            "inherited",
            f"{self.source} lacks it; {self.target} inherits it from {where}: remove it there "
            f"or set it in {self.source}",
        )

    def _record(self, path: JsonPath, action: Action, rel: str, secret: bool, value: Any) -> None:
        self._moves[path] = KeyMove(self.service, path, action, rel, secret, value)

    def _skip(self, path: JsonPath, reason: Reason, detail: str) -> None:
        self._done.add(path)
        self.skipped.append(Skipped(self.service, path, reason, detail))
