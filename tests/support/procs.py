"""The console script as real processes started at once, and a process holding the repository
lock: the faults of concurrent edits, injected for real."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CFGCTL = str(Path(sys.executable).parent / "cfgctl")


@dataclass
class Finished:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def run_at_once(
    commands: Sequence[tuple[Sequence[str], str | None]],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 180,
) -> list[Finished]:
    """Start every `cfgctl ARGS` (with its stdin text) before waiting for any; their results."""
    full_env = {**os.environ, **(env or {})}
    procs = [
        (
            tuple(args),
            stdin,
            subprocess.Popen(
                [CFGCTL, *args],
                cwd=cwd,
                env=full_env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for args, stdin in commands
    ]
    done = []
    for args, stdin, proc in procs:
        out, err = proc.communicate(stdin or "", timeout=timeout)
        done.append(Finished(args, proc.returncode, out, err))
    return done


def run_one(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> Finished:
    return run_at_once([(args, stdin)], cwd=cwd, env=env, timeout=120)[0]


_HOLDER = """
import sys
from pathlib import Path
from cfgctl.repo.lock import repository_lock
with repository_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


class LockHolder:
    """A separate process holding the repository lock of `root` until `release()` (or kill)."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until the lock is held: no sleep
        assert line.strip() == "held", line

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self._end()

    def _end(self) -> None:
        self.proc.wait(timeout=30)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()

    def kill(self) -> None:
        self.proc.kill()
        self._end()
