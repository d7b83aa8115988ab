"""What changed in a work tree, asked of libgit2 in a forked copy of this process.

    probe = StatusProbe.start(Path("."))      # before the rest of the imports a command needs
    ...                                       # imports, opening the repository
    paths = probe.changed(repo.path)          # None: ask libgit2 in this process instead

Finding what changed in a work tree costs one `lstat` per tracked file: ~0.13 s for 30,000 files,
during which libgit2 holds the interpreter lock, so a thread cannot overlap it. A forked child
can: it asks libgit2 the same question (`status`, untracked files listed one by one, ignored
files left out) on the other core while this process goes on importing, and writes the answer
to a pipe. The answer is libgit2's own, so it cannot differ from asking in-process.

The probe forks only a process that runs no other thread, on a system with `fork`; otherwise,
when the child fails, or when it found another repository than the caller opened, the caller
asks libgit2 itself.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

__all__ = ["StatusProbe"]

_SEP = b"\0"


def _child(git_path: str, out: int) -> int:
    """In the forked child: write the changed paths to `out`; the exit status."""
    try:
        import pygit2
        from pygit2.enums import FileStatus

        repo = pygit2.Repository(git_path)
        status = repo.status(untracked_files="all", ignored=False)
        data = _SEP.join(
            os.fsencode(path) for path, flags in status.items() if flags != FileStatus.CURRENT
        )
        view = memoryview(data)
        while view:
            view = view[os.write(out, view) :]
        return 0
    except BaseException:  # noqa: BLE001 - the parent falls back to asking libgit2 itself
        return 1


class StatusProbe:
    """libgit2's status of one repository's work tree, computed in a forked child."""

    def __init__(self, git_path: str, pid: int, read_end: int) -> None:
        self.git_path = git_path
        self.pid = pid  # the child's
        self._read_end = read_end
        self._answer: frozenset[str] | None = None
        self._done = False

    @classmethod
    def start(cls, start: Path) -> StatusProbe | None:
        """Fork a child computing the status of the repository holding `start`; None when this
        process cannot fork safely or `start` is in no repository."""
        if not hasattr(os, "fork") or os.environ.get("CFGCTL_STATUS_PROBE") == "off":
            return None
        threading = sys.modules.get("threading")
        if threading is not None and threading.active_count() > 1:
            return None  # forking a threaded process may copy a lock another thread holds
        import pygit2

        try:
            git_path = pygit2.discover_repository(str(start))
        except (pygit2.GitError, OSError, ValueError):
            return None  # the command's own opening reports it
        if git_path is None:
            return None
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return None
        if pid == 0:  # the child: no atexit handlers, no flush of the parent's buffers
            os.close(read_end)
            # Let go of the parent's stdin, stdout and stderr: a reader waiting for the end of
            # the parent's output must not wait for this child.
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os._exit(_child(git_path, write_end))
        os.close(write_end)
        return cls(git_path, pid, read_end)

    def changed(self, git_path: str) -> frozenset[str] | None:
        """The changed paths of the work tree of the repository at `git_path` (as the caller
        opened it), relative to its top; None when the probe cannot answer for it."""
        if not self._done:
            self._done = True
            self._answer = self._collect()
        if self._answer is None or os.path.realpath(git_path) != os.path.realpath(self.git_path):
            return None
        return self._answer

    def close(self) -> None:
        """End the child if nobody asked for its answer."""
        if not self._done:
            self._done = True
            os.close(self._read_end)
            os.kill(self.pid, signal.SIGKILL)  # unreaped, the child exists even when done
            os.waitpid(self.pid, 0)

    def _collect(self) -> frozenset[str] | None:
        chunks = []
        with os.fdopen(self._read_end, "rb") as pipe:
            while chunk := pipe.read(1 << 16):
                chunks.append(chunk)
        _, status = os.waitpid(self.pid, 0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return None
        data = b"".join(chunks)
        return frozenset(os.fsdecode(p) for p in data.split(_SEP)) if data else frozenset()
