"""The backup file: a plain tar of `manifest.json`, `repo.bundle` and `SHA256SUMS`, in that order.

    write_backup(out, manifest, bundle_path, force=False)   # atomic: the whole file or none
    opened = read_backup(path, bundle_to=scratch / "repo.bundle")
    opened.manifest["head"], opened.bundle                  # every byte checked

The layout follows `consul snapshot` (a tar of meta.json, state.bin and SHA256SUMS), so that in a
disaster `tar xf backup.tar && sha256sum -c SHA256SUMS && git clone repo.bundle` works without
cfgctl. Every byte of the file is guarded: the tar headers by their own checksums, the padding
and the end of the archive by being zeros and the file by its exact length, `manifest.json` by
its canonical form and the SHA-256 it carries of itself (`manifest_sha256`), `repo.bundle` by the
SHA-256 in the manifest, `SHA256SUMS` by being exactly what the two members give. A flipped byte
anywhere is found and named.

Errors: a file that is missing, unreadable, empty or not a cfgctl backup is unusable input
(`InputError`, exit 2); a backup that is truncated, damaged or changed is a failed check
(`CheckFailed`, exit 1).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cfgctl.errors import CheckFailed, InputError, Location

__all__ = [
    "BUNDLE",
    "FORMAT",
    "MANIFEST",
    "SUMS",
    "VERSION",
    "OpenedBackup",
    "encode_manifest",
    "read_backup",
    "sha256_file",
    "write_backup",
]

FORMAT = "cfgctl-backup"
VERSION = 1
MANIFEST = "manifest.json"
BUNDLE = "repo.bundle"
SUMS = "SHA256SUMS"
_MEMBERS = (MANIFEST, BUNDLE, SUMS)
_SELF = "manifest_sha256"
_BLOCK = tarfile.BLOCKSIZE
_RECORD = tarfile.RECORDSIZE
_MAX_MANIFEST = 1 << 30  # bytes: a manifest of a million pairs is ~100 MiB
_CHUNK = 1 << 20
_HINT_DAMAGED = (
    "the file was changed or damaged after `cfgctl backup create`: use another copy of the "
    "backup, and check the storage that held this one"
)


@dataclass
class OpenedBackup:
    """A backup file read and checked: its manifest, and where its bundle was written."""

    path: Path
    manifest: dict[str, Any]
    bundle: Path | None
    size: int


# --- writing ------------------------------------------------------------------------------------


def _canonical(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=True) + "\n").encode()


def encode_manifest(manifest: dict[str, Any]) -> bytes:
    """The bytes of manifest.json: canonical JSON carrying the SHA-256 of itself without that
    field."""
    body = {k: v for k, v in manifest.items() if k != _SELF}
    return _canonical({**body, _SELF: hashlib.sha256(_canonical(body)).hexdigest()})


def _header(name: str, size: int, mtime: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, mtime, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict")


def _pad(size: int) -> bytes:
    return b"\0" * (-size % _BLOCK)


def _sums(manifest_sha: str, bundle_sha: str) -> bytes:
    return f"{manifest_sha}  {MANIFEST}\n{bundle_sha}  {BUNDLE}\n".encode()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def write_backup(
    out: Path, manifest_bytes: bytes, bundle: Path, *, mtime: int, force: bool = False
) -> int:
    """Write the backup file `out` atomically (temporary file beside it, fsync, rename; an
    existing `out` is replaced only with `force`). Returns its size in bytes."""
    bundle_size = bundle.stat().st_size
    sums = _sums(hashlib.sha256(manifest_bytes).hexdigest(), sha256_file(bundle))
    fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.cfgctl-")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            data = manifest_bytes
            f.write(_header(MANIFEST, len(data), mtime) + data + _pad(len(data)))
            f.write(_header(BUNDLE, bundle_size, mtime))
            with bundle.open("rb") as src:
                while chunk := src.read(_CHUNK):
                    f.write(chunk)
            f.write(_pad(bundle_size))
            f.write(_header(SUMS, len(sums), mtime) + sums + _pad(len(sums)))
            end = f.tell() + 2 * _BLOCK
            f.write(b"\0" * (2 * _BLOCK + (-end % _RECORD)))
            f.flush()
            os.fsync(f.fileno())
            size = f.tell()
        tmp.chmod(0o644 & ~_umask())
        _place(tmp, out, force)
    finally:
        tmp.unlink(missing_ok=True)
    return size


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _place(tmp: Path, out: Path, force: bool) -> None:
    if force:
        tmp.replace(out)
        return
    try:
        os.link(tmp, out)  # fails when `out` exists: never a silent overwrite
    except FileExistsError:
        raise InputError(
            f"{out} exists already", hint="name a new file, or pass --force to replace it"
        ) from None


# --- reading ------------------------------------------------------------------------------------


def _corrupt(path: Path, message: str) -> CheckFailed:
    return CheckFailed(message, location=Location(str(path)), hint=_HINT_DAMAGED)


def _not_backup(path: Path, why: str) -> InputError:
    return InputError(
        f"not a cfgctl backup: {why}",
        location=Location(str(path)),
        hint="name a file written by `cfgctl backup create`",
    )


class _Reader:
    """Reads the members of the archive one by one, checking every byte it passes."""

    def __init__(self, path: Path, f: IO[bytes], size: int) -> None:
        self.path, self.f, self.size = path, f, size
        self.offset = 0

    def exact(self, n: int, what: str) -> bytes:
        data = self.f.read(n)
        if len(data) < n:
            raise _corrupt(
                self.path,
                f"truncated: the file ends at byte {self.offset + len(data)}, inside {what} "
                f"(the backup is incomplete)",
            )
        self.offset += n
        return data

    def header(self, expected: str) -> tarfile.TarInfo:
        at = self.offset
        block = self.exact(_BLOCK, f"the tar header of {expected}")
        try:
            info = tarfile.TarInfo.frombuf(block, "utf-8", "strict")
        except tarfile.HeaderError as exc:
            raise _corrupt(
                self.path, f"the tar header of {expected} (byte {at}) is damaged: {exc}"
            ) from None
        if info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict") != block:
            # Bytes the tar checksum does not cover (its own terminator) or a form cfgctl does
            # not write.
            raise _corrupt(self.path, f"the tar header of {expected} (byte {at}) was changed")
        if info.name != expected or not info.isreg():
            raise _corrupt(
                self.path,
                f"the archive holds {info.name!r} at byte {at} where {expected} belongs",
            )
        return info

    def padding(self, size: int, after: str) -> None:
        at = self.offset
        pad = self.exact(-size % _BLOCK, f"the padding after {after}")
        if pad.strip(b"\0"):
            where = at + next(i for i, b in enumerate(pad) if b)
            raise _corrupt(self.path, f"the padding after {after} was changed (byte {where})")

    def small(self, name: str, limit: int) -> bytes:
        info = self.header(name)
        if info.size > limit:
            raise _corrupt(self.path, f"{name} claims {info.size} bytes: more than a backup holds")
        data = self.exact(info.size, name)
        self.padding(info.size, name)
        return data

    def stream(self, name: str, sink: IO[bytes] | None) -> str:
        info = self.header(name)
        h, left = hashlib.sha256(), info.size
        while left:
            chunk = self.exact(min(left, _CHUNK), name)
            h.update(chunk)
            if sink is not None:
                sink.write(chunk)
            left -= len(chunk)
        self.padding(info.size, name)
        return h.hexdigest()

    def end(self) -> None:
        at = self.offset
        expected = at + 2 * _BLOCK + (-(at + 2 * _BLOCK) % _RECORD)
        if self.size < expected:
            raise _corrupt(
                self.path,
                f"truncated: {self.size} bytes where the archive has {expected} "
                "(the backup is incomplete)",
            )
        if self.size > expected:
            raise _corrupt(self.path, f"{self.size - expected} bytes follow the end of the archive")
        rest = self.exact(expected - at, "the end of the archive")
        if rest.strip(b"\0"):
            where = at + next(i for i, b in enumerate(rest) if b)
            raise _corrupt(self.path, f"the end of the archive was changed (byte {where})")


def read_backup(path: Path, *, bundle_to: Path | None = None) -> OpenedBackup:
    """Read and check the backup at `path`; its bundle is written to `bundle_to` when given.
    `InputError` for a file that is not a readable backup, `CheckFailed` for a damaged one."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        raise InputError(f"no such file: {path}", hint="name an existing backup file") from None
    except OSError as exc:
        raise InputError(
            f"cannot read {path}: {exc.strerror}", hint="check the file and its permissions"
        ) from None
    with f, contextlib.ExitStack() as stack:
        size = os.fstat(f.fileno()).st_size
        _classify(path, f.read(_BLOCK))
        f.seek(0)
        reader = _Reader(path, f, size)
        manifest_bytes = reader.small(MANIFEST, _MAX_MANIFEST)
        sink = stack.enter_context(bundle_to.open("wb")) if bundle_to is not None else None
        bundle_sha = reader.stream(BUNDLE, sink)
        sums = reader.small(SUMS, 4096)
        reader.end()
    manifest = _check_manifest(path, manifest_bytes)
    recorded = manifest.get("bundle", {}).get("sha256") if isinstance(manifest, dict) else None
    if recorded != bundle_sha:
        raise _corrupt(
            path,
            f"{BUNDLE} does not match the SHA-256 recorded in {MANIFEST}: "
            "the bundle was changed or damaged",
        )
    if sums != _sums(hashlib.sha256(manifest_bytes).hexdigest(), bundle_sha):
        raise _corrupt(path, f"{SUMS} does not match {MANIFEST} and {BUNDLE}: it was changed")
    return OpenedBackup(path, manifest, bundle_to, size)


def _classify(path: Path, first: bytes) -> None:
    """InputError unless the file starts like a backup (a damaged one included)."""
    if not first:
        raise _not_backup(path, "the file is empty")
    ours = first.startswith(MANIFEST.encode() + b"\0")
    tar = first[257:262] == b"ustar"
    if not (ours or tar):
        raise _not_backup(path, "it is not a tar archive")
    if ours or len(first) < _BLOCK:
        return
    try:
        name = tarfile.TarInfo.frombuf(first, "utf-8", "strict").name
    except tarfile.HeaderError:
        return  # a tar whose first header is damaged: perhaps ours, reported as damaged
    raise _not_backup(path, f"a tar archive whose first member is {name!r}, not {MANIFEST}")


def _check_manifest(path: Path, data: bytes) -> dict[str, Any]:
    try:
        manifest = json.load(io.BytesIO(data))
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict):
        raise _corrupt(path, f"{MANIFEST} is damaged: it is not a JSON object")
    if _canonical(manifest) != data:
        raise _corrupt(path, f"{MANIFEST} was changed: its bytes are not the ones cfgctl wrote")
    if encode_manifest(manifest) != data:
        raise _corrupt(path, f"{MANIFEST} was changed: it does not match its own SHA-256")
    if manifest.get("format") != FORMAT:
        raise _not_backup(path, f"{MANIFEST} is not the manifest of a cfgctl backup")
    if manifest.get("version") != VERSION:
        raise InputError(
            f"backup format version {manifest.get('version')!r}: this cfgctl reads version "
            f"{VERSION}",
            location=Location(str(path)),
            hint="use the cfgctl that made the backup, or a newer one",
        )
    return manifest
