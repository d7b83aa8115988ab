"""`cfgctl secrets encrypt` on any file, inside a config repository or not, as `sops` would:
for `--age` recipients, else for the creation rule sops finds in the nearest `.sops.yaml` (the
current folder or one above it, matched against the path as given).

    encrypt_any(Path("deploy/app.env"), age=[])        # the rule of ./.sops.yaml (or above)
    encrypt_any(Path("x.yaml"), age=["age1..."])

sops reads the file and prints the ciphertext into a pipe; the file is then replaced atomically
(mode kept). The plaintext is never written anywhere else.
"""

from __future__ import annotations

from pathlib import Path

from cfgctl.errors import InputError, Location
from cfgctl.repo import sops
from cfgctl.repo.fsutil import atomic_write
from cfgctl.secrets.rules import check_recipient

__all__ = ["encrypt_any", "readable"]

_NO_RULE = "no keys provided"


def readable(file: Path) -> None:
    """`InputError` (exit 2) unless `file` is a file this process can read."""
    try:
        with file.open("rb"):
            pass
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror}") from exc
    if not file.is_file():
        raise InputError(f"{file} is not a file")


def encrypt_any(file: Path, age: list[str]) -> None:
    """Encrypt `file` in place with sops: for `age`, else for the .sops.yaml rule sops finds."""
    readable(file)
    recipients = [check_recipient(r) for r in age]
    try:
        cipher = sops.encrypt_path(str(file), Path.cwd(), recipients)
    except sops.SopsFailed as exc:
        if _NO_RULE not in exc.message:
            raise
        raise InputError(
            "no recipient: no creation rule of a .sops.yaml (in the current folder or above) "
            "matches it, and no --age was given",
            location=Location(str(file)),
            hint=f"cfgctl secrets encrypt --age age1... {file}, or add a creation rule",
        ) from None
    atomic_write(file, cipher)
