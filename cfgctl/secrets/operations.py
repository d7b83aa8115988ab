"""Operations on the secrets of a config repository: encrypt, set, re-key, rotate, check, edit,
and the Git merge driver. Every file is written atomically, and only once sops succeeded.

    encrypt_file(root, "config/prod/payments.secrets.yaml")
    set_secret(snap, "payments", "prod", ("db", "password"), "s3cr3t")   # value from stdin
    change_recipients(root, "prod", add=["age1..."])
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfgctl.errors import CheckFailed, InputError, Location
from cfgctl.repo import sops
from cfgctl.repo.fsutil import atomic_write, confined
from cfgctl.repo.gitstore import FileRef
from cfgctl.repo.keypath import dotted_path, set_in
from cfgctl.repo.lock import locked_worktree, repository_lock
from cfgctl.repo.render import is_encrypted
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath, parse
from cfgctl.repo.yamlwrite import dump_plain
from cfgctl.secrets.rules import SOPS_CONFIG, SopsConfig, check_recipient

__all__ = [
    "SECRET_FILE",
    "change_recipients",
    "encrypt_file",
    "merge_secret_files",
    "read_secret_file",
    "rotate_files",
    "rule_recipients",
    "secret_files",
    "set_secret",
    "validate_edited",
    "write_edited",
]

SECRET_FILE = re.compile(r"^config/(?P<env>[^/]+)/(?P<service>[^/]+)\.secrets\.yaml$")


def secret_files(root: Path, env: str | None = None) -> list[str]:
    """The `.secrets.yaml` files of the work tree (of one environment), relative to `root`."""
    base = root / "config"
    out = []
    for path in sorted(base.glob("*/*.secrets.yaml")) if base.is_dir() else []:
        rel = path.relative_to(root).as_posix()
        match = SECRET_FILE.match(rel)
        if match and (env is None or match["env"] == env) and not path.name.startswith("."):
            out.append(rel)
    return out


def rule_recipients(root: Path, rel: str) -> list[str]:
    rules = SopsConfig.load(root)
    match = SECRET_FILE.match(rel)
    recipients = rules.recipients(match["env"]) if match else []
    if not recipients:
        env = match["env"] if match else "ENV"
        raise InputError(
            f"no recipient for {rel}: .sops.yaml has no rule with age keys for environment {env}",
            hint=f"add one: cfgctl secrets recipients add $(age public key) --env {env}",
        )
    return recipients


def encrypt_file(root: Path, rel: str) -> None:
    """Encrypt a plain-text .secrets.yaml in place for its environment's recipients."""
    with repository_lock(root):
        path = confined(root, rel)
        data = read_secret_file(path, rel)
        doc = parse(data, rel)
        if is_encrypted(doc.data):
            raise InputError(
                f"{rel} is encrypted already", hint=f"edit it: cfgctl secrets edit {rel}"
            )
        rule_recipients(root, rel)
        atomic_write(path, sops.encrypt(data, rel, root))


def read_secret_file(path: Path, rel: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(rel)) from exc


@contextlib.contextmanager
def _sibling_copy(path: Path) -> Iterator[Path]:
    """A copy of an (encrypted) file next to it, named so that .sops.yaml rules match it;
    removed unless it replaced the original."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=".cfgctl-", suffix=".secrets.yaml")
    os.close(fd)
    tmp = Path(name)
    try:
        shutil.copyfile(path, tmp)
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def _replace_from(tmp: Path, path: Path) -> None:
    atomic_write(path, tmp.read_bytes())


def set_secret(snap: Snapshot, service: str, env: str, key: JsonPath, value: Any) -> str:
    """Set one secret of config/ENV/SERVICE.secrets.yaml (created when missing). The value
    reaches sops through a pipe: the plaintext never touches the disk. Returns the file."""
    if snap.rev is not None:
        raise InputError("cfgctl secrets set edits the work tree; drop --rev")
    # Read, validated and written under the repository lock: a concurrent `secrets set` of the
    # same file lands before or after this one, never lost.
    with locked_worktree(snap) as fresh:
        return _set_secret(fresh, service, env, key, value)


def _set_secret(snap: Snapshot, service: str, env: str, key: JsonPath, value: Any) -> str:
    snap.manifest.service(service)
    snap.manifest.env(env)
    rel = f"config/{env}/{service}.secrets.yaml"
    path = confined(snap.root, rel)
    if key and key[0] == "sops":
        raise InputError("`sops` is the key of SOPS's own metadata", hint="choose another key")
    if value == "":
        raise InputError("empty value: nothing was read", hint="pipe the value in, or type it")
    rule_recipients(snap.root, rel)
    current: Any = {}
    if path.exists():
        data = read_secret_file(path, rel)
        if not is_encrypted(parse(data, rel).data):
            raise InputError(
                f"{rel} is not encrypted", hint=f"encrypt it first: cfgctl secrets encrypt {rel}"
            )
        current = sops.decrypt(data, rel)  # in memory: the result is validated before writing
    tree = current if isinstance(current, dict) else {}
    set_in(tree, key, value)
    validate_edited(snap, rel, service, env, tree)
    if not path.exists():
        atomic_write(path, sops.encrypt(dump_plain(tree).encode(), rel, snap.root))
        return rel
    with _sibling_copy(path) as tmp:
        sops.set_value(tmp, sops.index_of(key), value, rel)
        _replace_from(tmp, path)
    return rel


def change_recipients(
    root: Path, env: str, *, add: list[str] | None = None, remove: list[str] | None = None
) -> list[str] | None:
    """Change the age recipients of one environment in .sops.yaml (comments kept) and re-key
    every .secrets.yaml file of it. All or nothing: if one file cannot be re-keyed, .sops.yaml
    and every file stay as they were. Returns the files re-keyed; None when nothing changed.
    Under the repository lock, .sops.yaml and the files read under it."""
    with repository_lock(root):
        return _change_recipients(root, env, add or [], remove or [])


def _change_recipients(root: Path, env: str, add: list[str], remove: list[str]) -> list[str] | None:
    config = SopsConfig.load(root)
    confined(root, SOPS_CONFIG)
    before_text = config.path.read_bytes() if config.path.exists() else None
    current = config.recipients(env)
    wanted = list(current)
    for r in add:
        r = check_recipient(r)
        if r not in wanted:
            wanted.append(r)
    for r in remove:
        r = check_recipient(r)
        if r not in wanted:
            raise InputError(
                f"{r[:16]}… is not a recipient of {env}", hint="see cfgctl secrets recipients list"
            )
        wanted.remove(r)
    if not wanted:
        raise InputError(
            f"{env} would have no recipient left: nobody could decrypt its secrets",
            hint="add the new recipient before removing the last old one",
        )
    if wanted == current:
        return None
    config.set_recipients(env, wanted)
    config.save()
    files = secret_files(root, env)
    done: list[tuple[Path, Path]] = []
    try:
        with contextlib.ExitStack() as stack:
            for rel in files:
                tmp = stack.enter_context(_sibling_copy(confined(root, rel)))
                sops.update_keys(Path(rel).parent / tmp.name, root, rel)
                done.append((tmp, root / rel))
            for tmp, path in done:
                _replace_from(tmp, path)
    except BaseException:
        if before_text is None:
            config.path.unlink(missing_ok=True)
        else:
            atomic_write(config.path, before_text)
        raise
    return files


def rotate_files(root: Path, env: str | None = None) -> list[str]:
    """New data keys for the .secrets.yaml files (of one environment): `sops rotate`."""
    with repository_lock(root):
        files = secret_files(root, env)
        for rel in files:
            path = confined(root, rel)
            with _sibling_copy(path) as tmp:
                sops.rotate(Path(rel).parent / tmp.name, root, rel)
                _replace_from(tmp, path)
        return files


# --- edit ---------------------------------------------------------------------------------------


def write_edited(root: Path, rel: str, before: bytes, plain: bytes) -> None:
    """Encrypt an edited plaintext into `rel` under the repository lock, if the file still
    holds `before` (what the edit started from); CheckFailed, nothing written, when another
    command changed it meanwhile: the edit would silently undo that change."""
    with repository_lock(root):
        path = confined(root, rel)
        if read_secret_file(path, rel) != before:
            raise CheckFailed(
                f"{rel} was changed by another command while it was being edited; "
                "this edit is not written",
                hint=f"run cfgctl secrets edit {rel} again: it opens the current file",
            )
        atomic_write(path, sops.encrypt(plain, rel, root))


def validate_edited(snap: Snapshot, rel: str, service: str, env: str, tree: dict[str, Any]) -> None:
    from cfgctl.checks.validate import validate_snapshot

    # A stand-in blob for the edited plaintext: its id is never written anywhere (nor cached).
    marker = FileRef.of_bytes(
        rel, b"sops:\n  cfgctl-edit: " + os.urandom(16).hex().encode() + b"\n"
    )
    # A trial decryption: the edited tree, in memory only, dropped afterwards.
    decrypter = snap.session.decrypter
    decrypter.remember(marker.oid, tree)
    try:
        trial = snap.with_files({rel: marker}, cached=False)
        pairs = [(service, e) for e in snap.manifest.children(env) if (service, e) in snap.pairs()]
        report = validate_snapshot(trial, pairs=pairs)
        errors = [d for d in report.errors if set(d.pairs) & set(pairs)]
        if errors:
            first = errors[0]
            raise CheckFailed(
                f"the new secrets fail validation: {first.message}; {rel} is unchanged",
                hint=first.hint or "run cfgctl secrets edit again and fix the value",
            )
    finally:
        decrypter.forget(marker.oid)


# --- merge driver -------------------------------------------------------------------------------


@dataclass
class MergeResult:
    merged: dict[str, Any]
    conflicts: list[str]


_ABSENT = object()


def _merge(base: Any, ours: Any, theirs: Any, path: JsonPath, conflicts: list[str]) -> Any:
    if _same(ours, theirs):
        return ours
    if _same(base, ours):
        return theirs
    if _same(base, theirs):
        return ours
    if all(isinstance(x, dict) for x in (ours, theirs)) and (
        base is _ABSENT or isinstance(base, dict)
    ):
        b = base if isinstance(base, dict) else {}
        out: dict[str, Any] = {}
        for key in list(ours) + [k for k in theirs if k not in ours]:
            value = _merge(
                b.get(key, _ABSENT),
                ours.get(key, _ABSENT),
                theirs.get(key, _ABSENT),
                (*path, key),
                conflicts,
            )
            if value is not _ABSENT:
                out[key] = value
        return out
    conflicts.append(dotted_path(path))
    return ours


def _same(a: Any, b: Any) -> bool:
    from cfgctl.changes.diff import same_data

    if a is _ABSENT or b is _ABSENT:
        return a is b
    return same_data(a, b)


def merge_secret_files(root: Path, base: Path, ours: Path, theirs: Path, rel: str) -> MergeResult:
    """Git's three versions of an encrypted file, merged key by key in memory; on success the
    result is encrypted for the environment's recipients into `ours` (as Git expects)."""
    trees: list[Any] = []
    for label, path in (("base", base), ("ours", ours), ("theirs", theirs)):
        data = path.read_bytes()
        if not data.strip():
            trees.append({})
            continue
        doc = parse(data, f"{rel} ({label})").data
        trees.append(sops.decrypt(data, f"{rel} ({label})") if is_encrypted(doc) else (doc or {}))
    conflicts: list[str] = []
    merged = _merge(trees[0], trees[1], trees[2], (), conflicts)
    result = MergeResult(merged if isinstance(merged, dict) else {}, conflicts)
    if not conflicts:
        atomic_write(ours, sops.encrypt(dump_plain(result.merged).encode(), rel, root))
    return result
