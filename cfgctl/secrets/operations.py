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
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfgctl.errors import CheckFailed, InputError, Location
from cfgctl.repo import sops
from cfgctl.repo.fsutil import atomic_write
from cfgctl.repo.gitstore import FileRef
from cfgctl.repo.keypath import dotted_path, set_in
from cfgctl.repo.render import is_encrypted
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath, parse
from cfgctl.repo.yamlwrite import dump_plain
from cfgctl.secrets.rules import SopsConfig, check_recipient

__all__ = [
    "change_recipients",
    "edit_secret_file",
    "encrypt_file",
    "merge_secret_files",
    "rotate_files",
    "secret_files",
    "set_secret",
]

_SECRET_FILE = re.compile(r"^config/(?P<env>[^/]+)/(?P<service>[^/]+)\.secrets\.yaml$")


def secret_files(root: Path, env: str | None = None) -> list[str]:
    """The `.secrets.yaml` files of the work tree (of one environment), relative to `root`."""
    base = root / "config"
    out = []
    for path in sorted(base.glob("*/*.secrets.yaml")) if base.is_dir() else []:
        rel = path.relative_to(root).as_posix()
        match = _SECRET_FILE.match(rel)
        if match and (env is None or match["env"] == env) and not path.name.startswith("."):
            out.append(rel)
    return out


def _rule_recipients(root: Path, rel: str) -> list[str]:
    rules = SopsConfig.load(root)
    match = _SECRET_FILE.match(rel)
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
    path = root / rel
    data = _read(path, rel)
    doc = parse(data, rel)
    if is_encrypted(doc.data):
        raise InputError(f"{rel} is encrypted already", hint=f"edit it: cfgctl secrets edit {rel}")
    _rule_recipients(root, rel)
    atomic_write(path, sops.encrypt(data, rel, root))


def _read(path: Path, rel: str) -> bytes:
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
    snap.manifest.service(service)
    snap.manifest.env(env)
    rel = f"config/{env}/{service}.secrets.yaml"
    path = snap.root / rel
    if key and key[0] == "sops":
        raise InputError("`sops` is the key of SOPS's own metadata", hint="choose another key")
    if value == "":
        raise InputError("empty value: nothing was read", hint="pipe the value in, or type it")
    _rule_recipients(snap.root, rel)
    current: Any = {}
    if path.exists():
        data = _read(path, rel)
        if not is_encrypted(parse(data, rel).data):
            raise InputError(
                f"{rel} is not encrypted", hint=f"encrypt it first: cfgctl secrets encrypt {rel}"
            )
        current = sops.decrypt(data, rel)  # in memory: the result is validated before writing
    tree = current if isinstance(current, dict) else {}
    set_in(tree, key, value)
    _validate_edited(snap, rel, service, env, tree)
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
    and every file stay as they were. Returns the files re-keyed; None when nothing changed."""
    config = SopsConfig.load(root)
    before_text = config.path.read_bytes() if config.path.exists() else None
    current = config.recipients(env)
    wanted = list(current)
    for r in add or []:
        r = check_recipient(r)
        if r not in wanted:
            wanted.append(r)
    for r in remove or []:
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
                tmp = stack.enter_context(_sibling_copy(root / rel))
                sops.update_keys(tmp.relative_to(root), root, rel)
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
    files = secret_files(root, env)
    for rel in files:
        with _sibling_copy(root / rel) as tmp:
            sops.rotate(tmp.relative_to(root), root, rel)
            _replace_from(tmp, root / rel)
    return files


# --- edit ---------------------------------------------------------------------------------------


def edit_secret_file(snap: Snapshot, rel: str, editor: str | None = None) -> bool:
    """Decrypt into a private 0700 folder, run $EDITOR, validate, re-encrypt. The plaintext is
    removed afterwards, even on an error or an interrupt. False when nothing changed."""
    match = _SECRET_FILE.match(rel)
    if match is None:
        raise InputError(f"{rel} is not a config/ENV/SERVICE.secrets.yaml file")
    path = snap.root / rel
    cipher = _read(path, rel)
    plain = sops.decrypt_yaml(cipher, rel)
    command = shlex.split(editor or os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
    folder = Path(tempfile.mkdtemp(prefix="cfgctl-edit-"))
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a kill still removes the plaintext
    try:
        folder.chmod(0o700)
        tmp = folder / Path(rel).name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(plain)
        try:
            proc = subprocess.run([*command, str(tmp)], check=False)
        except FileNotFoundError as exc:
            raise InputError(f"cannot run the editor {command[0]!r}", hint="set $EDITOR") from exc
        if proc.returncode != 0:
            raise InputError(f"the editor exited with {proc.returncode}; {rel} is unchanged")
        edited = tmp.read_bytes()
        if edited == plain:
            return False
        tree = parse(edited, rel).data  # the strict YAML rules, with line numbers of tmp
        if tree is not None and not isinstance(tree, dict):
            raise InputError(f"{rel} must hold a mapping; nothing was written")
        _validate_edited(snap, rel, match["service"], match["env"], tree or {})
        atomic_write(path, sops.encrypt(edited, rel, snap.root))
        return True
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _validate_edited(
    snap: Snapshot, rel: str, service: str, env: str, tree: dict[str, Any]
) -> None:
    from cfgctl.checks.validate import validate_snapshot

    files = dict(snap.files.items())
    # A stand-in blob for the edited plaintext: its id is never written anywhere.
    marker = FileRef.of_bytes(
        rel, b"sops:\n  cfgctl-edit: " + os.urandom(16).hex().encode() + b"\n"
    )
    files[rel] = marker
    # A trial decryption: the edited tree, in memory only, dropped afterwards.
    decrypter = snap.session.decrypter
    decrypter.remember(marker.oid, tree)
    try:
        trial = Snapshot(snap.root, files, store=snap.store, session=snap.session)
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
