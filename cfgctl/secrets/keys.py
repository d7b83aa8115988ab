"""Age keys: a new identity for `cfgctl secrets keygen`; where sops looks for identities.

    identity_file = keygen(Path("~/.config/sops/age/keys.txt").expanduser())

Decrypting layers is reading the repository (`cfgctl.repo.decrypt`); the heuristics that find
credentials in plain files are a check (`cfgctl.checks.credentials`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cfgctl.errors import InputError
from cfgctl.repo.decrypt import default_key_file
from cfgctl.repo.fsutil import atomic_write

__all__ = ["default_key_file", "keygen"]


def keygen(out: Path) -> str:
    """Write a new age identity to `out` (mode 0600, never over an existing file); return its
    public recipient."""
    import pyrage

    if out.exists():
        raise InputError(
            f"{out} exists: cfgctl never overwrites a key file",
            hint="choose another file with --out, or remove the old key (is it still in use?)",
        )
    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    created = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    text = f"# created: {created}\n# public key: {recipient}\n{identity}\n"
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(out, text.encode(), mode=0o600)
    return recipient
