"""What changed in a work tree, asked of libgit2 in a forked copy of this process.

    probe = StatusProbe.start(".")            # first thing: before the imports a command needs
    ...                                       # imports, opening the repository
    paths = probe.changed(repo.path)          # None: ask libgit2 in this process instead

Finding what changed in a work tree costs one `lstat` per tracked file: ~0.1 s for 30,000 files,
during which libgit2 holds the interpreter lock, so a thread cannot overlap it. A forked child
can: it asks libgit2 the same question (`git_status_list_new` with pygit2's `status` options:
untracked files listed one by one, ignored files left out) on the other core while this process
goes on importing, and writes the answer to a pipe.

The child calls libgit2 through `ctypes`, in the very library pygit2 ships and loads
(`pygit2.libs/libgit2-*.so`): importing pygit2 costs ~50 ms, loading the library alone a few, and
that is the start of the child's critical path. Where that library is not found (a pygit2 built
against the system's libgit2), the child imports pygit2 and asks it. Either way the answer is
libgit2's own, so it cannot differ from asking in-process; the child also names the repository it
found, so that the answer is used only for the one the command opens.

The probe forks only a process that runs no other thread, on a system with `fork`; otherwise, or
when the child fails, the caller asks libgit2 itself.
"""

from __future__ import annotations

import os
import signal
import sys

__all__ = ["StatusProbe", "bundled_libgit2", "changed_in", "status_by_ctypes", "status_by_pygit2"]

TYPE_CHECKING = False  # the parent forks before importing typing or pygit2
if TYPE_CHECKING:
    import pygit2

_SEP = b"\0"
# git_status_opt_t: pygit2's `status(untracked_files="all", ignored=False)`, GIT_STATUS_OPT_DEFAULTS
# without INCLUDE_IGNORED.
_INCLUDE_UNTRACKED = 1 << 0
_RECURSE_UNTRACKED_DIRS = 1 << 4


def bundled_libgit2() -> str | None:
    """The libgit2 that pygit2's wheel ships beside it (auditwheel's `pygit2.libs/`), found
    without importing pygit2; None when there is not exactly one."""
    from importlib.util import find_spec
    from pathlib import Path

    spec = find_spec("pygit2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for package in spec.submodule_search_locations:
        found = sorted((Path(package).parent / "pygit2.libs").glob("libgit2*.so*"))
        if len(found) == 1:
            return str(found[0])
    return None


def status_by_ctypes(library: str, start: str) -> list[bytes]:
    """[git folder, changed path, ...] from libgit2's status, called through ctypes."""
    import ctypes

    lib = ctypes.CDLL(library)
    major, minor, rev = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
    lib.git_libgit2_version(ctypes.byref(major), ctypes.byref(minor), ctypes.byref(rev))
    if major.value < 1:  # git_status_options_init and this layout: libgit2 1.0 and later
        raise OSError(f"libgit2 {major.value}.{minor.value} is too old")
    lib.git_libgit2_init()
    repo = ctypes.c_void_p()
    if lib.git_repository_open_ext(ctypes.byref(repo), os.fsencode(start), 0, None) != 0:
        raise OSError("no repository")
    lib.git_repository_path.restype = ctypes.c_char_p
    found: list[bytes] = [lib.git_repository_path(repo)]
    # git_status_options begins {unsigned version; git_status_show_t show; unsigned flags; ...}:
    # the buffer is larger than the whole struct in any version, `init` sets the defaults.
    options = (ctypes.c_uint32 * 64)()
    if lib.git_status_options_init(options, 1) != 0:
        raise OSError("git_status_options_init failed")
    options[1] = 0  # GIT_STATUS_SHOW_INDEX_AND_WORKDIR
    options[2] = _INCLUDE_UNTRACKED | _RECURSE_UNTRACKED_DIRS

    failed: list[BaseException] = []

    def each(path: bytes, flags: int, _payload: object) -> int:
        try:
            if flags:  # GIT_STATUS_CURRENT is 0
                found.append(path)
        except BaseException as exc:  # noqa: BLE001 - ctypes would only print it
            failed.append(exc)
            return -1  # stops the walk
        return 0

    # git_status_cb: int (*)(const char *path, unsigned int status_flags, void *payload)
    callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_uint, ctypes.c_void_p)
    if lib.git_status_foreach_ext(repo, options, callback(each), None) != 0 or failed:
        raise OSError("git_status_foreach_ext failed")
    return found


def changed_in(repo: pygit2.Repository) -> list[str]:
    """The question itself, asked through pygit2 (`GitStore.changed_paths` asks it so too): the
    paths that differ from HEAD, staged, modified, deleted or untracked, not ignored."""
    from pygit2.enums import FileStatus

    status = repo.status(untracked_files="all", ignored=False)
    return [path for path, flags in status.items() if flags != FileStatus.CURRENT]


def status_by_pygit2(start: str) -> list[bytes]:
    """[git folder, changed path, ...], as `status_by_ctypes` gives them, through pygit2."""
    import pygit2

    git_path = pygit2.discover_repository(start)
    if git_path is None:
        raise OSError("no repository")
    changed = changed_in(pygit2.Repository(git_path))
    return [os.fsencode(git_path), *map(os.fsencode, changed)]


def _child(start: str, out: int) -> int:
    """In the forked child: write the git folder and the changed paths to `out`; the exit
    status (not 0: the parent asks libgit2 itself)."""
    try:
        library = bundled_libgit2()
        found = status_by_ctypes(library, start) if library else status_by_pygit2(start)
        view = memoryview(_SEP.join(found))
        while view:
            view = view[os.write(out, view) :]
        return 0
    except BaseException:  # noqa: BLE001 - the parent falls back to asking libgit2 itself
        return 1


class StatusProbe:
    """libgit2's status of one repository's work tree, computed in a forked child."""

    def __init__(self, pid: int, read_end: int) -> None:
        self.pid = pid  # the child's
        self._read_end = read_end
        self._answer: tuple[str, frozenset[str]] | None = None
        self._done = False

    @classmethod
    def start(cls, start: str | os.PathLike[str]) -> StatusProbe | None:
        """Fork a child computing the status of the repository holding `start`; None when this
        process cannot fork safely."""
        if not hasattr(os, "fork") or os.environ.get("CFGCTL_STATUS_PROBE") == "off":
            return None
        threading = sys.modules.get("threading")
        if threading is not None and threading.active_count() > 1:
            return None  # forking a threaded process may copy a lock another thread holds
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
            os._exit(_child(os.fspath(start), write_end))
        os.close(write_end)
        return cls(pid, read_end)

    def changed(self, git_path: str) -> frozenset[str] | None:
        """The changed paths of the work tree of the repository at `git_path` (as the caller
        opened it), relative to its top; None when the probe cannot answer for it."""
        if not self._done:
            self._done = True
            self._answer = self._collect()
        if self._answer is None:
            return None
        found, paths = self._answer
        return paths if os.path.realpath(git_path) == os.path.realpath(found) else None

    def close(self) -> None:
        """End the child if nobody asked for its answer."""
        if not self._done:
            self._done = True
            os.close(self._read_end)
            os.kill(self.pid, signal.SIGKILL)  # unreaped, the child exists even when done
            os.waitpid(self.pid, 0)

    def _collect(self) -> tuple[str, frozenset[str]] | None:
        chunks = []
        with os.fdopen(self._read_end, "rb") as pipe:
            while chunk := pipe.read(1 << 16):
                chunks.append(chunk)
        _, status = os.waitpid(self.pid, 0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return None
        git_path, *paths = (os.fsdecode(p) for p in b"".join(chunks).split(_SEP))
        return git_path, frozenset(paths)
