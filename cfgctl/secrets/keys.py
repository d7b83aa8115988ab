"""Secrets: age keys, decryption of `.secrets.yaml` layers (in memory, cached by blob id), and
the checks that keep plaintext credentials out of Git.

    identity_file = keygen(Path("~/.config/sops/age/keys.txt").expanduser())
    plain = decrypted(snapshot.files["config/prod/payments.secrets.yaml"])  # None: no key

Decrypted trees live in this process's memory only (the agent and `watch` reuse them for
unchanged blobs); nothing decrypted is ever written to the on-disk cache.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import re
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cfgctl.errors import EnvError, InputError
from cfgctl.repo.fsutil import atomic_write
from cfgctl.repo.gitstore import FileRef
from cfgctl.secrets import sops

__all__ = ["decrypted", "default_key_file", "keygen", "looks_like_credential", "prefetch"]

_PLAIN: dict[str, Any] = {}  # blob id -> decrypted tree; _NO_KEY marks "no key at hand"
_NO_KEY = object()
_LOCK = threading.Lock()


def default_key_file() -> Path:
    """Where sops looks for age identities: SOPS_AGE_KEY_FILE, else ~/.config/sops/age/keys.txt."""
    chosen = os.environ.get("SOPS_AGE_KEY_FILE")
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sops" / "age" / "keys.txt"


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


def key_fingerprint() -> str:
    """A digest of the age keys at hand (the variables and the key file sops reads): the same
    fingerprint, the same layers decrypt. Part of the key of cached verdicts."""
    import hashlib

    h = hashlib.sha256()
    for name in ("SOPS_AGE_KEY", "SOPS_AGE_KEY_CMD", "SOPS_AGE_SSH_PRIVATE_KEY_FILE"):
        h.update(f"{name}={os.environ.get(name, '')}\n".encode())
    try:
        h.update(default_key_file().read_bytes())
    except OSError:
        h.update(b"-")
    return h.hexdigest()


def decrypted(ref: FileRef) -> Any:
    """The plaintext tree of an encrypted layer, or None when no key at hand opens it.
    `SopsFailed` for a tampered or broken file."""
    with _LOCK:
        known = _PLAIN.get(ref.oid)
    if known is None:
        try:
            known = sops.decrypt(ref.read(), ref.path)
        except EnvError as exc:
            if "no key" not in exc.message:
                raise
            known = _NO_KEY
        with _LOCK:
            _PLAIN[ref.oid] = known
    return None if known is _NO_KEY else known


def prefetch(refs: Iterable[FileRef]) -> None:
    """Decrypt many layers at once: one sops process per core plus one (each runs with
    GOMAXPROCS=1; measured on 2 cores, more processes only add contention)."""
    todo = {r.oid: r for r in refs if r.oid not in _PLAIN}
    if len(todo) < 2:
        for ref in todo.values():
            _quiet(ref)
        return
    with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 1) + 1)) as pool:
        list(pool.map(_quiet, todo.values()))


def _quiet(ref: FileRef) -> None:
    with contextlib.suppress(InputError):  # reported where the layer is used, with its location
        decrypted(ref)


# --- credentials in plain files ----------------------------------------------------------------

_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|AGE-SECRET-KEY-1[0-9A-Z]{20,}")
_TOKENS = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}|glpat-[A-Za-z0-9_-]{20,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|sk_live_[A-Za-z0-9]{20,}"
    r"|rk_live_[A-Za-z0-9]{20,}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}|SG\.[A-Za-z0-9_-]{20,})"
)
_SECRET_NAME = re.compile(
    r"(?i)(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)"
)


def _entropy(text: str) -> float:
    counts: dict[str, int] = {}
    for ch in text:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def looks_like_credential(key: str, value: Any) -> str | None:
    """Why a plain value looks like a credential, or None: a private key block, a known token
    prefix, or a long random-looking string under a name like password or token."""
    if not isinstance(value, str):
        return None
    if _PRIVATE_KEY.search(value):
        return "a private key"
    if _TOKENS.search(value):
        return "an access token"
    if (
        _SECRET_NAME.search(key)
        and len(value) >= 16
        and " " not in value
        and not value.startswith(("${", "{{", "ENC[", "vault:", "ref+", "http://", "https://"))
        and _entropy(value) >= 3.5
    ):
        return f"a random-looking value under {key!r}"
    return None
