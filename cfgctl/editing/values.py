"""Editing one value in place: `cfgctl set`.

The file is edited with ruamel.yaml's round-trip mode (comments, order and quoting kept), the
result is validated as the repository would be, and only then written, atomically. Validation
follows the change: the service in that environment and in every environment inheriting it, and
the files those read; the rest of the repository is neither parsed nor listed.

    result = set_value(snap, "payments", "prod", ("db", "pool_size"), "40")
    result.path, result.old, result.new
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import SingleQuotedScalarString

from cfgctl.checks.credentials import check_credentials
from cfgctl.checks.validate import validate_snapshot
from cfgctl.diagnostics import DiagnosedFailure, Diagnostic
from cfgctl.errors import InputError
from cfgctl.repo.fsutil import atomic_write, confined
from cfgctl.repo.keypath import dotted_path, set_in
from cfgctl.repo.lock import locked_worktree
from cfgctl.repo.render import lookup
from cfgctl.repo.secretpaths import secret_paths
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath, parse
from cfgctl.repo.yamlwrite import dump_roundtrip, is_ambiguous, load_roundtrip

__all__ = [
    "SetResult",
    "parse_value",
    "quoted_if_ambiguous",
    "refuse_new_problems",
    "set_in_snapshot",
    "set_value",
    "unset_value",
]


@dataclass(frozen=True)
class SetResult:
    path: str
    key: str
    old: Any
    new: Any
    changed: bool
    secret: bool = False
    commit: str | None = None  # the commit `set --commit` made


def parse_value(text: str, *, string: bool = False) -> Any:
    """VALUE as YAML (`8080` is a number, `true` a boolean, `[a, b]` a list), or as text."""
    if string:
        return quoted_if_ambiguous(text)
    if re.search(r"(^|\s)#", text):
        raise InputError(
            "VALUE holds ' #', which YAML reads as the start of a comment",
            hint="pass --string to store the text as it is, or quote it: '\"a # b\"'",
        )
    try:
        doc = parse(text, "VALUE")
    except InputError as exc:
        raise InputError(
            f"VALUE is not valid YAML: {exc.message}",
            hint="quote it for the shell, or pass --string to store it as text",
        ) from exc
    return quoted_if_ambiguous(doc.data) if isinstance(doc.data, str) else doc.data


def quoted_if_ambiguous(text: str) -> Any:
    """A string YAML 1.1 readers (PyYAML, Kubernetes, Flux) would take for another type is
    written quoted: `on`, `no`, `0755`, `1:30`."""
    if is_ambiguous(text):
        return SingleQuotedScalarString(text)
    return text


def _set_in(data: Any, path: JsonPath, value: Any) -> None:
    node = data
    for i, part in enumerate(path):
        last = i == len(path) - 1
        where = dotted_path(path[: i + 1])
        if isinstance(part, int):
            if not isinstance(node, list) or part > len(node):
                raise InputError(
                    f"cannot set {where}: no list item {part} there",
                    hint="index an existing item, or the next one to append",
                )
            if part == len(node):
                node.append(value if last else CommentedMap())
            elif last:
                node[part] = value
            node = node[part]
            continue
        if not isinstance(node, dict):
            raise InputError(
                f"cannot set {where}: {dotted_path(path[:i]) or 'the document'} is not a mapping",
                hint="set the parent key to a mapping first, or choose another key",
            )
        if last:
            node[part] = value
        else:
            if part not in node or node[part] is None:
                node[part] = CommentedSeq() if isinstance(path[i + 1], int) else CommentedMap()
            node = node[part]


def set_value(
    snap: Snapshot,
    service: str,
    env: str,
    path: JsonPath,
    value: Any,
    *,
    dry_run: bool = False,
    commit: str | None = None,
) -> SetResult:
    """Set `path` to `value` in config/ENV/SERVICE.yaml of the work tree; refuse (CheckFailed,
    nothing written) when the repository would then fail validation where it did not before.
    The file is read, checked and written under the repository lock: a concurrent edit of the
    same file lands before or after this one, never lost. `commit`: a commit message; the file
    (and nothing else) is then committed on the checked-out branch (`result.commit`)."""
    if snap.rev is not None:
        raise InputError("cfgctl set edits the work tree; drop --rev")
    _import_the_validator()
    if dry_run:
        return _set_value(snap, service, env, path, value, write=False)
    with locked_worktree(snap) as fresh:
        result = _set_value(fresh, service, env, path, value, write=True)
        if commit is not None and result.changed:
            from cfgctl.repo.newbranch import commit_paths_on_head  # only `set --commit`

            if fresh.store is None or fresh.store.workdir is None:
                raise InputError(
                    f"{snap.root} is not in a Git work tree: nothing to commit to",
                    hint="drop --commit, or run `git init` there first",
                )
            made = commit_paths_on_head(fresh.store, [fresh.git_prefix + result.path], commit)
            result = replace(result, commit=made)
        return result


def _import_the_validator() -> None:
    """Import the schema validator (jsonschema with its format checkers: ~60 ms) before the work
    tree is first read. An edit validates the content it makes, which no cache holds yet, and
    the work tree's Git status may meanwhile still be computing in the console script's early
    probe (repo/gitstatus.py): the import runs beside it instead of after it."""
    import cfgctl.repo.validator  # noqa: F401


def _set_value(
    snap: Snapshot, service: str, env: str, path: JsonPath, value: Any, *, write: bool
) -> SetResult:
    snap.manifest.service(service)
    snap.manifest.env(env)
    rel = f"config/{env}/{service}.yaml"
    _refuse_unsettable(snap, service, env, path, value)
    target = confined(snap.root, rel)
    if target.exists() and not target.is_file():
        raise InputError(f"{rel} is not a file", hint="remove or rename what is there")
    before = target.read_bytes() if target.exists() else b""
    result, after = _edited(snap, service, env, path, value, before)
    if write and result.changed:
        atomic_write(target, after)
    return result


def set_in_snapshot(
    snap: Snapshot, service: str, env: str, path: JsonPath, value: Any
) -> tuple[SetResult, bytes]:
    """`set_value` on a snapshot of a revision (`Snapshot.at`): the result and the new bytes of
    config/ENV/SERVICE.yaml (comments kept), checked as `set_value` checks them; nothing is
    written (a commit on a new branch is made of them)."""
    snap.manifest.service(service)
    snap.manifest.env(env)
    _refuse_unsettable(snap, service, env, path, value)
    ref = snap.files.get(f"config/{env}/{service}.yaml")
    return _edited(snap, service, env, path, value, ref.read() if ref is not None else b"")


def _edited(
    snap: Snapshot, service: str, env: str, path: JsonPath, value: Any, before: bytes
) -> tuple[SetResult, bytes]:
    """config/ENV/SERVICE.yaml, which holds `before`, with `path` set to `value` (service, env
    and key checked already); refused when that brings validation problems."""
    rel = f"config/{env}/{service}.yaml"
    data = load_roundtrip(before, rel) if before.strip() else None
    if data is None:
        data = CommentedMap()
    if not isinstance(data, dict):
        raise InputError(f"{rel} does not hold a mapping", hint="fix the file first")
    # The old value from the bytes just read (under the lock), not from an earlier listing.
    found, old = lookup(parse(before, rel).data if before.strip() else None, path)
    _set_in(data, path, value)
    after = dump_roundtrip(data, like=before.decode("utf-8-sig", errors="replace")).encode()
    result = SetResult(rel, dotted_path(path), old if found else None, value, after != before)
    if result.changed:
        refuse_new_problems(
            snap,
            [(service, e) for e in snap.manifest.children(env)],
            rel,
            after,
            f"{dotted_path(path)} = {_short(value)}",
        )
    return result, after


def unset_value(
    snap: Snapshot, service: str, env: str, path: JsonPath, *, dry_run: bool = False
) -> SetResult:
    """Remove `path` from config/ENV/SERVICE.yaml (comments kept), under the repository lock;
    refused (nothing written) when the file does not set it, or when the repository would then
    fail validation where it did not before. `new` is the value it then inherits (None)."""
    if snap.rev is not None:
        raise InputError("cfgctl unset edits the work tree; drop --rev")
    _import_the_validator()
    if dry_run:
        return _unset_value(snap, service, env, path, write=False)
    with locked_worktree(snap) as fresh:
        return _unset_value(fresh, service, env, path, write=True)


def _unset_value(
    snap: Snapshot, service: str, env: str, path: JsonPath, *, write: bool
) -> SetResult:
    manifest = snap.manifest
    manifest.service(service)
    manifest.env(env)
    rel = f"config/{env}/{service}.yaml"
    target = confined(snap.root, rel)
    before = target.read_bytes() if target.is_file() else b""
    found, old = lookup(parse(before, rel).data if before.strip() else None, path)
    if not found:
        raise InputError(
            f"{rel} does not set {dotted_path(path)}: {_set_elsewhere(snap, service, env, path)}",
            hint=f"`cfgctl explain {service} {dotted_path(path)} --env {env}` shows every layer "
            "that sets it",
        )
    data = load_roundtrip(before, rel)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    after = dump_roundtrip(data, like=before.decode("utf-8-sig", errors="replace")).encode()
    pairs = [(service, e) for e in manifest.children(env)]
    trial = refuse_new_problems(snap, pairs, rel, after, f"removing {dotted_path(path)}")
    if write:
        atomic_write(target, after)
    inherited = lookup(trial.render(service, env).data, path)[1]
    return SetResult(rel, dotted_path(path), old, inherited, True)


def _set_elsewhere(snap: Snapshot, service: str, env: str, path: JsonPath) -> str:
    """Where `path` comes from instead, in words."""
    rendered = snap.render(service, env)
    setters = [layer.path for layer, _, _ in rendered.setters(path)]
    if setters:
        return f"it is inherited from {', '.join(setters)}; unset it there, or set another value"
    return f"no layer of {service}@{env} sets it"


def _refuse_unsettable(snap: Snapshot, service: str, env: str, path: JsonPath, value: Any) -> None:
    """InputError when the service's schema is broken, or when `path` is a secret there."""
    ref = snap.schemas.resolve(snap.manifest.service(service).schema)
    problems = snap.schemas.check(ref)
    if problems:  # a value cannot be checked against a broken schema: refuse, do not guess
        first = problems[0]
        raise InputError(
            f"cannot check the new value: schema {ref} is broken: {first.message}",
            location=first.location,
            hint="fix the schema first (cfgctl validate lists its problems)",
        )
    schema_doc = snap.schemas.document(ref.path)
    probe: dict[str, Any] = {}
    set_in(probe, path, value)
    resolver = snap.schema_resolver(ref)
    if any(True for _ in secret_paths(schema_doc, probe, resolver, snap.schemas.secret_memo)):
        raise InputError(
            f"{dotted_path(path)} is a secret (schema {ref}); it may not be written in plain text",
            hint=f"store it encrypted: cfgctl secrets set {service} {dotted_path(path)} "
            f"--env {env} (the value on stdin)",
        )


def refuse_new_problems(
    snap: Snapshot,
    pairs: list[tuple[str, str]],
    rel: str,
    after: bytes,
    change: str,
) -> Snapshot:
    """The snapshot with `rel` holding `after`; DiagnosedFailure when that brings problems the
    pairs it feeds (and the files they read) did not have before. `change` says what the edit
    does, for the message."""
    scope = sorted({rel} | {layer.path for s, e in pairs for layer in snap.layers(s, e)})
    problems_before = _errors(snap, pairs, rel, scope)
    trial = snap.with_files({rel: after})
    new = [
        d
        for d in _errors(trial, pairs, rel, scope)
        if d.code == "render" or d.message not in {p.message for p in problems_before}
    ]
    if new:
        raise DiagnosedFailure(
            f"refused: {change} would fail validation "
            f"({len(new)} problem{'s' if len(new) > 1 else ''}); {rel} is unchanged",
            new,
            hint="choose a value the schema accepts, or fix the problems listed first",
        )
    return trial


def _errors(
    snap: Snapshot, pairs: list[tuple[str, str]], rel: str, scope: list[str]
) -> list[Diagnostic]:
    """The errors of the pairs an edit of `rel` feeds and of the files they read (`scope`):
    work follows the change, a broken file elsewhere neither blocks nor slows the edit."""
    # The credential scan: a value that looks like a token refuses the edit of a plain file.
    report = validate_snapshot(snap, pairs=pairs, files=scope, checks=[check_credentials])
    wanted = set(pairs)
    return [d for d in report.errors if set(d.pairs) & wanted or d.location.path == rel]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:39] + "…"
