"""Atomic writes (a crash leaves the old file or the new one, never half of one), and the
confinement of every path cfgctl writes to its repository."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cfgctl.errors import CfgctlError, InputError

__all__ = ["atomic_write", "confined", "remove_stale_temps", "write_all"]

# What marks the temporary files of `atomic_write`: `.NAME.cfgctl-XXXXXXXX` next to NAME.
_TEMP_MARK = ".cfgctl-"
_TEMP_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: Path,
    data: bytes,
    *,
    mode: int | None = None,
    temp: Path | None = None,
    sync_dir: bool = True,
) -> None:
    """Write `data` to `path` through a temporary file in the same folder, fsync, rename.

    An existing file keeps its mode (and its owner and group, where the process may set them);
    a new one gets `mode`, or 0644 less the umask. `temp`: a fixed temporary name, for a writer
    that owns the folder and writes often (a random name costs more to create); `sync_dir`
    False skips the folder's fsync (the rename still makes the file whole or absent after a
    crash of the process; only a power loss may bring the old file back).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same directory: a rename is atomic only within one filesystem.
    if temp is None:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{_TEMP_MARK}")
        tmp = Path(name)
    else:
        fd, tmp = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), temp
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():  # mkstemp makes 0600; keep the file's mode and owner
            st = path.stat()
            tmp.chmod(st.st_mode & 0o7777)
            if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
                # only root gives files away; otherwise the mode is kept, not the owner
                with contextlib.suppress(PermissionError):
                    os.chown(tmp, st.st_uid, st.st_gid)
        else:
            umask = os.umask(0)
            os.umask(umask)
            tmp.chmod(mode if mode is not None else 0o666 & ~umask)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_dir:
        _fsync_dir(path.parent)


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove the temporary files `atomic_write` left next to `path` when its process was killed
    between writing one and renaming it into place; the paths removed.

    Only for a writer that owns `path` (the agent for its targets, under its state lock): a
    temporary file of a write still running would be removed too.
    """
    prefix = f".{path.name}{_TEMP_MARK}"
    removed = []
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return []
    for entry in entries:
        rest = entry.name.removeprefix(prefix)
        if rest != entry.name and len(rest) == 8 and set(rest) <= _TEMP_CHARS:
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed.append(entry)
    return removed


def confined(root: Path, rel: str | Path) -> Path:
    """`root / rel`, resolved, when it stays inside `root`; InputError (nothing written) for an
    absolute path, a `..` that climbs out, a symbolic link (of a folder or of the file itself)
    that leads out, or a path into Git's own `.git` folder. Every path cfgctl writes into a
    repository passes here first."""
    text = rel.as_posix() if isinstance(rel, Path) else rel
    base = root.resolve()
    candidate = Path(text)
    if not text or candidate.is_absolute():
        raise InputError(
            f"refused to write {text!r}: not a path relative to the repository",
            hint="write inside the repository; a template parameter must not hold a path",
        )
    full = (base / candidate).resolve()
    if not full.is_relative_to(base) or full == base:
        raise InputError(
            f"refused to write {text!r}: it leads outside the repository {root}",
            hint="a file name may not climb out with '..' or through a symbolic link; "
            "check the template parameters (--set)",
        )
    if ".git" in full.relative_to(base).parts:
        raise InputError(
            f"refused to write {text!r}: it is inside Git's own .git folder",
            hint="check the template parameters (--set)",
        )
    return full


def write_all(root: Path, writes: Mapping[str, bytes | None], what: str = "the change") -> None:
    """Every file of `writes` (None: remove it) inside `root`, atomically each, in path order;
    on a failure the ones already done get their old bytes back (or go, when they were new),
    and InputError says so."""
    done: list[tuple[str, bytes | None]] = []
    try:
        for rel, data in sorted(writes.items()):
            path = confined(root, rel)
            done.append((rel, path.read_bytes() if path.exists() else None))
            if data is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write(path, data)
    except (OSError, CfgctlError) as exc:
        for rel, old in reversed(done):
            path = root / rel
            if old is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write(path, old)
        why = exc.strerror if isinstance(exc, OSError) else exc.message
        raise InputError(
            f"cannot write {done[-1][0] if done else what}: {why}; every file is as it was",
            hint="check the permissions and the free space, then run it again",
        ) from None
