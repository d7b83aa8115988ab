"""Writing many files all or nothing: `write_all` and its journal, under real kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cfgctl.errors import InputError
from cfgctl.repo.fsutil import JOURNAL, write_all
from cfgctl.repo.lock import repository_lock


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".cfgctl" not in p.parts
    }


def _seed(root: Path, n: int) -> None:
    for i in range(n):
        path = root / "config" / f"d{i % 3}" / f"s{i}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"old\n")
    (root / "config" / "d0" / "s0.yaml").chmod(0o600)


def test_every_file_is_written_removed_or_kept_and_nothing_else_stays(tmp_path: Path) -> None:
    _seed(tmp_path, 6)
    write_all(
        tmp_path,
        {"config/d0/s0.yaml": b"new\n", "config/d1/s1.yaml": None, "config/new/x.yaml": b"x\n"},
    )
    tree = _tree(tmp_path)
    assert tree["config/d0/s0.yaml"] == b"new\n" and tree["config/new/x.yaml"] == b"x\n"
    assert "config/d1/s1.yaml" not in tree and tree["config/d2/s2.yaml"] == b"old\n"
    assert (tmp_path / "config/d0/s0.yaml").stat().st_mode & 0o777 == 0o600  # mode kept
    assert not (tmp_path / JOURNAL).exists()
    assert not [p for p in tmp_path.rglob("*") if ".cfgctl-" in p.name]


def test_a_file_that_cannot_be_written_leaves_every_file_as_it_was(tmp_path: Path) -> None:
    _seed(tmp_path, 6)
    (tmp_path / "config" / "d2" / "s2.yaml").unlink()
    (tmp_path / "config" / "d2" / "s2.yaml").mkdir()  # a folder where a file should go
    before = _tree(tmp_path)
    writes: dict[str, bytes | None] = {f"config/d{i % 3}/s{i}.yaml": b"new\n" for i in range(6)}
    with pytest.raises(InputError, match="every file is as it was"):
        write_all(tmp_path, writes, "the migration")
    assert _tree(tmp_path) == before
    assert not (tmp_path / JOURNAL).exists()
    assert not [p for p in tmp_path.rglob("*") if ".cfgctl-" in p.name]


def test_a_path_outside_the_repository_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    _seed(tmp_path, 3)
    before = _tree(tmp_path)
    with pytest.raises(InputError):
        write_all(tmp_path, {"config/d0/s0.yaml": b"new\n", "../escape.yaml": b"x\n"})
    assert _tree(tmp_path) == before and not (tmp_path.parent / "escape.yaml").exists()


_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from cfgctl.repo.fsutil import write_all
    root, n = Path(sys.argv[1]), int(sys.argv[2])
    write_all(root, {f"config/d{i % 3}/s{i}.yaml": b"new\\n" for i in range(n)})
    """
)


def _kill_at(root: Path, state: str, n: int) -> bool:
    """Run a writer of `n` files and kill -9 it once its journal says `state`; whether it was
    caught there (not finished before)."""
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(root), str(n)])
    journal = root / JOURNAL
    try:
        while proc.poll() is None:
            try:
                text = journal.read_text()
            except OSError:
                continue
            if f'"{state}"' in text:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize(("state", "expected"), [("commit", b"new\n"), ("staging", b"old\n")])
def test_kill_9_mid_write_is_settled_by_the_next_writer_all_or_nothing(
    tmp_path: Path, state: str, expected: bytes
) -> None:
    n, caught = 400, False
    for attempt in range(10):
        root = tmp_path / f"r{attempt}"
        _seed(root, n)
        caught = _kill_at(root, state, n)
        if caught:
            break
    assert caught, f"the writer never stopped in its {state!r} state"
    assert json.loads((root / JOURNAL).read_text())["state"] == state
    with repository_lock(root):  # the next writer
        pass
    contents = set(_tree(root).values())
    assert contents == {expected}, "a mix of old and new files after the next writer"
    assert len(_tree(root)) == n
    assert not (root / JOURNAL).exists()
    assert not [p for p in root.rglob("*") if ".cfgctl-" in p.name]


def test_a_device_a_fifo_or_a_folder_is_never_replaced_by_a_file(tmp_path: Path) -> None:
    import pytest

    from cfgctl.repo.fsutil import atomic_write

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    for path in (fifo, folder, Path("/dev/null")):
        with pytest.raises(OSError, match="cfgctl writes regular files only"):
            atomic_write(path, b"data")
    assert fifo.is_fifo() and folder.is_dir() and Path("/dev/null").is_char_device()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    atomic_write(link, b"data")  # a link is replaced, never followed
    assert not link.is_symlink() and link.read_bytes() == b"data"
    assert not (tmp_path / "elsewhere").exists()
