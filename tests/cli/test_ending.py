"""cfgctl.cli.ending: the console script leaves without the interpreter's teardown, but with
everything of the ending that matters: the exit status, atexit handlers, flushed output, and
the threads that still run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Output buffered as a command's is when it goes to a pipe.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}

# argv: CODE (a Python literal for end()), MARKS (a folder), "thread" to leave a thread running
_SCRIPT = """
import atexit, pathlib, sys, threading, time
from cfgctl.cli.ending import end

marks = pathlib.Path(sys.argv[2])
atexit.register(lambda: (marks / "atexit").write_text("ran"))
sys.stdout.write("x" * 100_000)
sys.stdout.write("end of the answer")  # in the buffer: a pipe is not a terminal
if sys.argv[3] == "thread":
    def late():
        time.sleep(0.3)
        (marks / "thread").write_text("finished")
    threading.Thread(target=late).start()
end(eval(sys.argv[1]))
"""


@pytest.mark.parametrize(
    ("code", "status", "stderr"),
    [
        ("None", 0, ""),
        ("3", 3, ""),
        ("130", 130, ""),
        ("'no such service'", 1, "no such service\n"),
    ],
)
def test_the_status_output_and_atexit_handlers_are_as_sys_exit_leaves_them(
    tmp_path: Path, code: str, status: int, stderr: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, code, str(tmp_path), "-"],
        capture_output=True,
        text=True,
        timeout=30,
        env=_ENV,
    )
    assert done.returncode == status
    assert done.stderr == stderr
    assert done.stdout == "x" * 100_000 + "end of the answer"
    assert (tmp_path / "atexit").read_text() == "ran"


def test_a_thread_that_still_runs_is_waited_for(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, "0", str(tmp_path), "thread"],
        capture_output=True,
        text=True,
        timeout=30,
        env=_ENV,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "thread").read_text() == "finished"
    assert (tmp_path / "atexit").read_text() == "ran"


@pytest.mark.parametrize(
    "setup",
    [
        "sys.stdout.write('lost')\nos.close(1)\n",  # buffered output, its file gone
        "sys.stdout.close()\n",  # closed: nothing to flush
        "sys.stderr.write('half a line')\nos.close(2)\n",  # the same for stderr
    ],
    ids=["stdout-gone", "stdout-closed", "stderr-gone"],
)
@pytest.mark.parametrize("code", ["0", "3", "2**63", "-1", "True"])
def test_the_status_is_what_sys_exit_gives(setup: str, code: str) -> None:
    """The same ending through sys.exit and through end(): the same status (CPython makes it
    120 when a standard stream cannot be flushed, whatever the code)."""
    head = "import os, sys\nsys.stderr = open(2, 'w', buffering=1 << 16)\n" + setup
    statuses = [
        subprocess.run(
            [sys.executable, "-c", head + ending], capture_output=True, timeout=30, env=_ENV
        ).returncode
        for ending in (
            f"sys.exit({code})\n",
            f"from cfgctl.cli.ending import end\nend({code})\n",
        )
    ]
    assert statuses[0] == statuses[1], statuses
