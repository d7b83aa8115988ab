"""The repository lock: one cfgctl at a time writes a config repository.

    with repository_lock(root):          # EnvError (exit 3) when another cfgctl holds it too long
        ...read what is edited, then write it...

    with locked_worktree(snap) as fresh:  # the lock, and the work tree read again under it
        ...edit fresh...

Every command that writes the repository (`set`, `secrets set|edit|rotate|recipients`, `new
service`, `codeowners`) takes the lock around reading what it edits and writing it: two edits
started at once both land, one after the other, instead of the second overwriting the first with
what it read before the first wrote. The lock is `.cfgctl/lock` (an OS lock on an open file:
released when the process ends, even by kill -9). Within one process it is reentrant.
CFGCTL_LOCK_TIMEOUT (seconds, default 60) bounds the wait.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from cfgctl.errors import EnvError, InputError
from cfgctl.repo.fsutil import finish_writes
from cfgctl.repo.snapshot import Snapshot

__all__ = ["LOCK_FILE", "lock_timeout", "locked_worktree", "repository_lock"]

LOCK_FILE = ".cfgctl/lock"
log = logging.getLogger(__name__)
_DEFAULT_TIMEOUT = 60.0


def lock_timeout() -> float:
    """CFGCTL_LOCK_TIMEOUT in seconds (default 60)."""
    raw = os.environ.get("CFGCTL_LOCK_TIMEOUT", "")
    if not raw.strip():
        return _DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise InputError(
            f"CFGCTL_LOCK_TIMEOUT={raw!r} is not a number of seconds",
            hint="set it to how long to wait for the repository lock, e.g. 60",
        )
    return value


@contextlib.contextmanager
def repository_lock(root: Path, *, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock of the repository at `root` (its folder of cfgctl.yaml) for the block."""
    from filelock import FileLock, Timeout  # here: `set --dry-run` and the readers take no lock

    wait = lock_timeout() if timeout is None else timeout
    path = root / LOCK_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvError(
            f"cannot create the repository lock {LOCK_FILE}: {exc.strerror}",
            hint=f"cfgctl needs to write {root / '.cfgctl'} to edit the repository",
        ) from None
    # One instance per path in this process (reentrant): a writer calling another writer does
    # not wait for itself.
    lock = FileLock(path, is_singleton=True)
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise EnvError(
            f"another cfgctl is writing this repository (waited {wait:g} s for {LOCK_FILE})",
            hint="run the command again when the other one has finished; "
            "CFGCTL_LOCK_TIMEOUT=SECONDS waits longer",
        ) from None
    except OSError as exc:
        raise EnvError(
            f"cannot take the repository lock {LOCK_FILE}: {exc.strerror}",
            hint=f"check the permissions of {root / '.cfgctl'}",
        ) from None
    try:
        finished = finish_writes(root)
        if finished:
            log.warning(
                "finished the write of %d files a cfgctl cut off left half done (%s)",
                len(finished),
                ", ".join(finished[:3]) + (", ..." if len(finished) > 3 else ""),
            )
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def locked_worktree(snap: Snapshot) -> Iterator[Snapshot]:
    """The lock of `snap`'s repository, and its work tree read again under the lock: what
    another cfgctl wrote while this one was starting is what this one edits."""
    if snap.rev is not None:
        raise InputError("this command edits the work tree; drop --rev")
    with repository_lock(snap.root):
        yield Snapshot.from_worktree(
            snap.root, use_cache=snap.cache.root is not None, session=snap.session
        )
