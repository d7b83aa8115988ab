"""`cfgctl secrets edit`: decrypt into a private folder, run $EDITOR, validate, re-encrypt.

changed = edit_secret_file(snap, "config/prod/payments.secrets.yaml")
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from cfgctl.errors import InputError
from cfgctl.repo import sops
from cfgctl.repo.fsutil import atomic_write
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import parse
from cfgctl.secrets.operations import _SECRET_FILE, _read, _validate_edited

__all__ = ["edit_secret_file"]


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
