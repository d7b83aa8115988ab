"""Atomic writes (a crash leaves the old file or the new one, never half of one), and the
confinement of every path cfgctl writes to its repository."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cfgctl.errors import CfgctlError, InputError

__all__ = [
    "JOURNAL",
    "atomic_write",
    "confined",
    "finish_writes",
    "remove_stale_temps",
    "write_all",
]

# The renames of a `write_all` under way (see there).
JOURNAL = ".cfgctl/journal.json"

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
    _refuse_special(path)
    tmp = _stage(path, data, mode=mode, temp=temp, sync=True)
    try:
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_dir:
        _fsync_dir(path.parent)


def _refuse_special(path: Path) -> None:
    """A device, a FIFO, a socket or a folder at `path` is never replaced by a file (an
    `--out /dev/null` as root would have turned the device into a file): OSError, which every
    writer reports as a file it cannot write. A symbolic link is replaced, never followed."""
    try:
        st = path.lstat()
    except OSError:
        return  # nothing there (or nothing we may look at: the write will say)
    if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
        return
    kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
    raise OSError(errno.EEXIST, f"{kind}: cfgctl writes regular files only", str(path))


def _stage(path: Path, data: bytes, *, mode: int | None, temp: Path | None, sync: bool) -> Path:
    """`data` in a temporary file next to `path`, with the mode (and owner) `path` has or
    `mode`; fsynced when `sync`. The caller renames it into place."""
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
            if sync:
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
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


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
    """Every file of `writes` (None: remove it) inside `root`, all or nothing, even across a
    kill -9 or a power loss.

    A journal (`.cfgctl/journal.json`) names the files and their temporary names first; each
    new file is written next to its place, and all are synced at once (one `sync`, not one
    fsync per file: thousands of files cost about what one does); the journal then says
    "commit" and the renames are done. A process cut off before "commit" changed nothing (the
    next writer removes its temporary files); after it, the next writer finishes the renames
    (`finish_writes`, under the repository lock). A failure to write gives InputError, every
    file as it was.
    """
    token = secrets.token_hex(4)
    staged = [(rel, confined(root, rel), data) for rel, data in sorted(writes.items())]
    plan = [[rel, None if data is None else _temp_name(path, token)] for rel, path, data in staged]
    old: dict[Path, bytes | None] = {}
    try:
        for _, path, _ in staged:
            old[path] = path.read_bytes() if path.exists() else None
        _journal(root, "staging", plan)
        for _, path, data in staged:
            if data is not None:
                _stage(
                    path, data, mode=None, temp=path.parent / _temp_name(path, token), sync=False
                )
        os.sync()
        _journal(root, "commit", plan)
    except (OSError, CfgctlError) as exc:
        _discard(root, plan)
        raise _unwritten(what, exc) from None
    try:
        _rename_all(root, plan)
    except OSError as exc:
        for path, data in old.items():  # back to what was there
            with contextlib.suppress(OSError):
                if data is None:
                    path.unlink(missing_ok=True)
                else:
                    atomic_write(path, data)
        _discard(root, plan)
        raise _unwritten(what, exc) from None
    (root / JOURNAL).unlink(missing_ok=True)


def _temp_name(path: Path, token: str) -> str:
    return f".{path.name}{_TEMP_MARK}{token}"


def _journal(root: Path, state: str, plan: list[list[str | None]]) -> None:
    atomic_write(root / JOURNAL, json.dumps({"state": state, "files": plan}).encode())


def _discard(root: Path, plan: list[list[str | None]]) -> None:
    """Remove the temporary files of `plan` and its journal: nothing was renamed."""
    for rel, tmp in plan:
        if tmp is not None and rel is not None:
            (root / rel).parent.joinpath(tmp).unlink(missing_ok=True)
    (root / JOURNAL).unlink(missing_ok=True)


def _rename_all(root: Path, plan: list[list[str | None]]) -> None:
    """Each staged file into place (no temporary name: the file removed), then each folder
    synced once. A temporary file already gone was renamed before (a finished journal)."""
    folders = set()
    for rel, tmp in plan:
        assert rel is not None
        path = root / rel
        folders.add(path.parent)
        if tmp is None:
            path.unlink(missing_ok=True)
        elif (path.parent / tmp).exists():
            (path.parent / tmp).replace(path)
    for folder in sorted(folders):
        _fsync_dir(folder)


def _unwritten(what: str, exc: OSError | CfgctlError) -> InputError:
    why = exc.strerror if isinstance(exc, OSError) else exc.message
    return InputError(
        f"cannot write {what}: {why}; every file is as it was",
        hint="check the permissions and the free space, then run it again",
    )


def finish_writes(root: Path) -> list[str]:
    """Settle a `write_all` cut off by kill -9 or a power loss (call under the repository lock):
    after its "commit", finish the renames; before, remove its temporary files. The files
    finished; a journal that cannot be read is left for a person to look at."""
    journal = root / JOURNAL
    try:
        entry = json.loads(journal.read_bytes())
        state, plan = entry["state"], entry["files"]
        for rel, _ in plan:
            confined(root, rel)  # a journal naming a path outside is not followed
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError, CfgctlError):
        return []
    if state != "commit":
        _discard(root, plan)
        return []
    _rename_all(root, plan)
    journal.unlink(missing_ok=True)
    return [rel for rel, _ in plan]
