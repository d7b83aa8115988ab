"""`secrets set` on a commit: the new ciphertext of one secrets file, for a change request.

    rel, data = set_secret_in_snapshot(snap, "payments", "prod", ("db", "password"), "s3cr3t")

The same rules as `cfgctl secrets set` (operations.set_secret): the file is
config/ENV/SERVICE.secrets.yaml, created when missing for the recipients .sops.yaml names for ENV;
the value is validated with the rest of the file, decrypted in memory only; an existing file
keeps the other values' ciphertexts (`sops set`). The plaintext never touches the disk: it
reaches sops through a pipe, and the only file written is a private copy of the ciphertext,
removed at once. Nothing in the repository is written: the caller commits the bytes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from cfgctl.errors import InputError
from cfgctl.repo import sops
from cfgctl.repo.keypath import set_in
from cfgctl.repo.render import is_encrypted
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath, parse
from cfgctl.repo.yamlwrite import dump_plain
from cfgctl.secrets.operations import rule_recipients, validate_edited

__all__ = ["set_secret_in_snapshot"]


def set_secret_in_snapshot(
    snap: Snapshot, service: str, env: str, key: JsonPath, value: Any
) -> tuple[str, bytes]:
    """(config/ENV/SERVICE.secrets.yaml, its new encrypted bytes) with `key` set to `value`.
    `snap` must be able to decrypt (its session's keys): the file is validated in memory."""
    snap.manifest.service(service)
    snap.manifest.env(env)
    rel = f"config/{env}/{service}.secrets.yaml"
    if not key or key[0] == "sops":
        raise InputError("`sops` is the key of SOPS's own metadata", hint="choose another key")
    if value == "" or value is None:
        raise InputError("empty value", hint="send the secret's value")
    rule_recipients(snap.root, rel)
    ref = snap.files.get(rel)
    before = ref.read() if ref is not None else None
    current: Any = {}
    if before is not None:
        if not is_encrypted(parse(before, rel).data):
            raise InputError(
                f"{rel} is not encrypted", hint=f"encrypt it first: cfgctl secrets encrypt {rel}"
            )
        current = sops.decrypt(before, rel)  # in memory: validated before anything is made
    tree = current if isinstance(current, dict) else {}
    set_in(tree, key, value)
    validate_edited(snap, rel, service, env, tree)
    if before is None:
        return rel, sops.encrypt(dump_plain(tree).encode(), rel, snap.root)
    with tempfile.TemporaryDirectory(prefix="cfgctl-secret-") as folder:
        copy = Path(folder) / Path(rel).name  # the ciphertext only; private (mode 0700)
        copy.write_bytes(before)
        sops.set_value(copy, sops.index_of(key), value, rel)
        return rel, copy.read_bytes()
