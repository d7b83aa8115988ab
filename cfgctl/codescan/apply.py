"""`apply_fix`: the plan of `cfgctl.codescan.fix` carried out all or nothing, optionally between
two runs of the project's own tests.

    result = apply_fix(snap, [Path("app")], "payments", verify="pytest -q", select=[...])

Under the repository lock: the plan is made from the work tree as it is now; `--verify CMD` runs
first on the unchanged code (a failure there stops everything: the tests must pass before they
can prove anything); the code and the model are written; the command runs again with
`CFGCTL_CONFIG` naming the environment's rendered configuration (a 0600 file in memory-backed
storage, removed after); on success the schema and the layers are written (one journaled
`write_all`), else the code files are put back as they were. Secret values are masked in the
command's output shown.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfgctl.codescan.findings import mask
from cfgctl.codescan.fix import FixPlan, plan_fix
from cfgctl.errors import CfgctlError, CheckFailed, InputError
from cfgctl.repo.fsutil import atomic_write, write_all
from cfgctl.repo.lock import locked_worktree
from cfgctl.repo.snapshot import Snapshot

__all__ = ["FixResult", "apply_fix", "run_verify"]

VERIFY_TIMEOUT = 1800.0
_TAIL = 40  # lines of a failing command's output shown


@dataclass
class FixResult:
    plan: FixPlan
    verified: list[str] = field(default_factory=list)  # "before: exit 0 (12 lines)", ...
    written: bool = False


@dataclass(frozen=True)
class _Run:
    code: int
    output: str


def run_verify(command: str, *, config: Path | None, timeout: float = VERIFY_TIMEOUT) -> _Run:
    """Run `command` (split like a shell would, never through one) in the current folder."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise InputError(f"--verify {command!r}: {exc}", hint="quote it as one argument") from exc
    if not argv:
        raise InputError("--verify is empty", hint='e.g. --verify "pytest -q"')
    env = dict(os.environ)
    if config is not None:
        env["CFGCTL_CONFIG"] = str(config)
    # SIGTERM as KeyboardInterrupt for the whole run (the one before any change too): the
    # command's process group is killed on the way out, never left running.
    with _terminate_as_interrupt():
        proc: subprocess.Popen[bytes] | None = None
        try:
            with _signals_held():  # a signal while it starts: raised once the process is known
                proc = _start(argv, env)
        except BaseException:
            if proc is not None:
                _kill_group(proc)
            raise
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill_group(proc)
            raise CheckFailed(
                f"--verify {command!r} ran longer than {timeout:g} s: nothing written",
                hint="make the tests faster, or select fewer findings",
            ) from exc
        except BaseException:
            _kill_group(proc)
            raise
    return _Run(proc.returncode, stdout.decode(errors="replace"))


def _start(argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    try:
        # Its own process group: a timeout, Ctrl-C or SIGTERM takes its children down with it.
        return subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise InputError(
            f"--verify: no command {argv[0]!r}", hint="name a command on PATH, e.g. pytest -q"
        ) from exc
    except PermissionError as exc:
        raise InputError(f"--verify: {argv[0]!r} cannot be run", hint="chmod +x it") from exc


_STOPPING = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM held back for the block, then sent again to the handlers in place.
    Interrupted between its fork and its return, `Popen` leaves a child that nobody knows and so
    nobody ends: the tests' process group would outlive cfgctl. An ignored signal stays ignored
    (the command inherits that, as it would without cfgctl)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []

    def hold(signum: int, frame: object) -> None:
        came.append(signum)

    previous = {
        s: signal.signal(s, hold) for s in _STOPPING if signal.getsignal(s) != signal.SIG_IGN
    }
    try:
        yield
    finally:
        # Blocked while the handlers are put back, so that one coming meanwhile cannot stop
        # the putting back half way; delivered, to the handler in place, once unblocked.
        signal.pthread_sigmask(signal.SIG_BLOCK, previous)
        try:
            for held, handler in previous.items():
                signal.signal(held, handler)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, previous)
        for signum in dict.fromkeys(came):  # each once, in the order they came
            signal.raise_signal(signum)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt while files are half changed, so the code is put back
    (as on Ctrl-C) before the process ends."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    ):
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _tail(run: _Run, secrets: list[Any]) -> str:
    lines = mask(run.output, secrets).rstrip().splitlines()[-_TAIL:]
    return "\n".join("    " + line for line in lines)


@contextmanager
def _memory_file(data: bytes) -> Iterator[Path]:
    """`data` in a 0600 file on memory-backed storage (it may hold secrets)."""
    folder = "/dev/shm" if Path("/dev/shm").is_dir() else None
    fd, name = tempfile.mkstemp(prefix="cfgctl-fix-", suffix=".yaml", dir=folder)
    try:
        os.write(fd, data)
        os.close(fd)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _write_code(plan: FixPlan) -> dict[Path, bytes | None]:
    """Write the code and the model; return what to put back (None: the file was new)."""
    undo: dict[Path, bytes | None] = {}
    files: list[tuple[Path, bytes | None, bytes]] = [(p, b, a) for p, (b, a) in plan.code.items()]
    if plan.model is not None:
        files.append(plan.model)
    try:
        for path, before, after in files:
            undo[path] = before
            atomic_write(path, after)
    except OSError as exc:
        _undo(undo)
        raise InputError(
            f"cannot write {exc.filename}: {exc.strerror}", hint="nothing kept"
        ) from exc
    return undo


def _undo(undo: dict[Path, bytes | None]) -> None:
    for path, before in undo.items():
        if before is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write(path, before)


def _verify_env(plan: FixPlan) -> str:
    return plan.env if plan.env in plan.envs else plan.envs[0]


def apply_fix(
    snap: Snapshot,
    paths: list[Path],
    service: str,
    *,
    verify: str | None = None,
    verify_timeout: float = VERIFY_TIMEOUT,
    **options: Any,
) -> FixResult:
    """Plan, verify and write (see the module's docstring)."""
    with locked_worktree(snap) as fresh:
        plan = plan_fix(fresh, paths, service, **options)
        result = FixResult(plan)
        secrets = [f.value for f, _ in plan.moved if f.kind == "secret"]
        if verify is not None:
            before = run_verify(verify, config=None, timeout=verify_timeout)
            if before.code != 0:
                raise CheckFailed(
                    f"--verify {verify!r} fails before any change (exit {before.code}): "
                    f"nothing written\n{_tail(before, secrets)}",
                    hint="the tests must pass on the code as it is before they can prove the move",
                )
            result.verified.append(f"before the change: {verify} passed")
        with _terminate_as_interrupt():
            _write_verified(fresh.root, plan, result, verify, verify_timeout, secrets)
        result.written = True
    return result


def _write_verified(
    root: Path,
    plan: FixPlan,
    result: FixResult,
    verify: str | None,
    verify_timeout: float,
    secrets: list[Any],
) -> None:
    """Code and model written, the tests run again, the repository written; the code put back
    when anything fails or the process is interrupted."""
    service = plan.service
    undo = _write_code(plan)
    try:
        if verify is not None:
            env = _verify_env(plan)
            with _memory_file(plan.rendered[env]) as config:
                after = run_verify(verify, config=config, timeout=verify_timeout)
            if after.code != 0:
                raise CheckFailed(
                    f"--verify {verify!r} fails after the change (exit {after.code}, "
                    f"CFGCTL_CONFIG = {service}@{env}): the code is put back, nothing "
                    f"written\n{_tail(after, secrets)}",
                    hint="select fewer findings, or choose other keys, and try again",
                )
            result.verified.append(f"after the change ({service}@{env}): {verify} passed")
        write_all(root, plan.repo_writes, "the fix")
    except (CfgctlError, OSError, KeyboardInterrupt):
        _undo(undo)
        raise
