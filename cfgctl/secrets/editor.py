"""`cfgctl secrets edit`: decrypt into a private folder, run $EDITOR, validate, re-encrypt.

The plaintext copy lives in memory-backed storage (`/dev/shm` where it exists, else the temp
dir), in a 0700 folder named `cfgctl-edit-PID-*`: SIGHUP, SIGTERM and SIGINT end the editor and
remove it; a folder left by a process that is gone (kill -9, a crash) is removed at the next
start. An invalid result (bad YAML, a schema error) opens the editor again with the error as a
comment at the top, as `sops` and `kubectl edit` do; saving it unchanged, or empty, gives up.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cfgctl.errors import CfgctlError, CheckFailed, InputError
from cfgctl.repo import sops
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import parse
from cfgctl.secrets.operations import (
    SECRET_FILE,
    read_secret_file,
    validate_edited,
    write_edited,
)

__all__ = ["edit_folder_base", "edit_secret_file", "remove_stale_folders"]

PREFIX = "cfgctl-edit-"
_SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)
_HEADER = "# cfgctl: "
_GIVE_UP = (
    "# cfgctl: fix it and save to try again; save it unchanged, or empty it, to give up "
    "(nothing is written).\n"
)


def edit_secret_file(snap: Snapshot, rel: str, editor: str | None = None) -> bool:
    """Decrypt into a private folder, run $EDITOR until the result is valid, re-encrypt. The
    plaintext is removed afterwards, even on an error or a signal. False when nothing changed;
    `CheckFailed` (exit 1, the file untouched) when the user gives up on an invalid edit."""
    match = SECRET_FILE.match(rel)
    if match is None:
        raise InputError(f"{rel} is not a config/ENV/SERVICE.secrets.yaml file")
    path = snap.root / rel
    cipher = read_secret_file(path, rel)
    plain = sops.decrypt_yaml(cipher, rel)
    command = shlex.split(editor or os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
    with _private_folder() as folder:
        tmp = folder / Path(rel).name
        _write_private(tmp, plain)
        shown, reopened = plain, False
        while True:
            _run_editor(command, tmp, rel)
            edited = tmp.read_bytes()
            body = _without_header(edited)
            if edited == plain:
                return False
            if not body.strip() or (reopened and edited == shown):
                raise CheckFailed(
                    f"edit abandoned: {rel} is unchanged",
                    hint="run cfgctl secrets edit again to start over",
                )
            problem = _problem(snap, rel, match["service"], match["env"], edited)
            if problem is None:
                write_edited(snap.root, rel, cipher, body)  # under the lock, if still unchanged
                return True
            shown, reopened = _header(problem) + body, True
            _write_private(tmp, shown)


def _problem(snap: Snapshot, rel: str, service: str, env: str, edited: bytes) -> str | None:
    """Why the edited file cannot be saved (None: it can). Line numbers are those of the file
    as the editor shows it: the comment at the top counts."""
    try:
        tree = parse(edited, rel).data  # the strict YAML rules
        if tree is not None and not isinstance(tree, dict):
            raise InputError(f"{rel} must hold a mapping")
        validate_edited(snap, rel, service, env, tree or {})
    except CfgctlError as exc:
        text = str(exc).replace("; " + rel + " is unchanged", "")
        return text + (f" (hint: {exc.hint})" if exc.hint else "")
    return None


def _header(problem: str) -> bytes:
    lines = [f"{_HEADER}the file was not saved: {line}\n" for line in problem.splitlines()]
    return ("".join(lines) + _GIVE_UP + "#\n").encode()


def _without_header(edited: bytes) -> bytes:
    """The edited file without the comment lines cfgctl put at its top."""
    lines = edited.splitlines(keepends=True)
    n = 0
    while n < len(lines) and lines[n].startswith(_HEADER.encode()):
        n += 1
    if n and n < len(lines) and lines[n].rstrip(b"\r\n") == b"#":
        n += 1
    return b"".join(lines[n:])


def _write_private(tmp: Path, data: bytes) -> None:
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


# --- the editor process -------------------------------------------------------------------------


def _run_editor(command: list[str], tmp: Path, rel: str) -> None:
    """Run the editor on `tmp` and wait; a signal to cfgctl ends the editor too. An editor
    without a terminal gets its own process group, ended as a whole."""
    interactive = sys.stdin.isatty()
    try:
        proc = subprocess.Popen([*command, str(tmp)], process_group=None if interactive else 0)
    except FileNotFoundError as exc:
        raise InputError(f"cannot run the editor {command[0]!r}", hint="set $EDITOR") from exc
    try:
        code = proc.wait()
    finally:
        _end(proc, group=not interactive)
    if code != 0:
        raise InputError(f"the editor exited with {code}; {rel} is unchanged")


def _end(proc: subprocess.Popen[bytes], *, group: bool) -> None:
    """SIGTERM to the editor (its group), SIGKILL after 5 s; reaped either way."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM) if group else proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL) if group else proc.kill()
            proc.wait()
    if group:  # what the editor started and left behind
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


# --- the private folder -------------------------------------------------------------------------


def edit_folder_base() -> Path:
    """Memory-backed storage where there is some (/dev/shm), else the temp dir."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return Path(tempfile.gettempdir())


@contextlib.contextmanager
def _private_folder() -> Iterator[Path]:
    """A 0700 folder named with our pid, removed at the end, on SIGHUP, SIGTERM and SIGINT
    (each raises KeyboardInterrupt here: exit 130); stale ones of dead processes removed."""
    base = edit_folder_base()
    remove_stale_folders(base)
    previous = {s: signal.signal(s, _interrupt) for s in _SIGNALS}
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))
    try:
        folder.chmod(0o700)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for s, handler in previous.items():
            signal.signal(s, handler)


def _interrupt(signum: int, frame: Any) -> None:
    for s in _SIGNALS:  # a second signal must not cut the cleanup short
        signal.signal(s, signal.SIG_IGN)
    raise KeyboardInterrupt


def remove_stale_folders(base: Path) -> list[Path]:
    """Remove the edit folders (ours: same owner) whose process is gone; returns them."""
    removed = []
    for folder in base.glob(f"{PREFIX}*-*"):
        pid = folder.name[len(PREFIX) :].split("-", 1)[0]
        try:
            if not pid.isdigit() or folder.lstat().st_uid != os.getuid() or _alive(int(pid)):
                continue
        except OSError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
