"""Plain text printed to a pipe skips rich, and comes out exactly as rich would print it."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from cfgctl.cli import output

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["a\tb", "x\x07y\x08z\x0bw\x0cv\rq", "[red]x[/]", ":x:", "\x1b[31mred", ""]
)


def _rich(objects: list[str], style: str | None) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, soft_wrap=True, markup=False, highlight=False, emoji=False)
    console.print(*objects, style=style)
    return buffer.getvalue()


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=3), st.sampled_from([None, "red", "dim"]))
def test_plain_text_to_a_pipe_is_what_rich_prints(objects: list[str], style: str | None) -> None:
    for stderr in (False, True):
        buffer = io.StringIO()
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = buffer  # what CliRunner does: the stream at print time
        try:
            printer = output.LazyConsole(stderr=stderr)  # a fresh one: no rich yet
            if style is None:
                printer.print(*objects)
            else:
                printer.print(*objects, style=style)
        finally:
            sys.stdout, sys.stderr = saved
        assert buffer.getvalue() == _rich(objects, style)


@pytest.mark.parametrize("env", [{"FORCE_COLOR": "1"}, {"TTY_COMPATIBLE": "1"}])
def test_a_forced_terminal_still_gets_rich_styles(env: dict[str, str]) -> None:
    code = "from cfgctl.cli.output import err\nerr.print('boom', style='red')\n"
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert "\x1b[" in found.stderr and "boom" in found.stderr


def test_plain_lines_keep_their_order_across_stdout_and_stderr() -> None:
    code = (
        "from cfgctl.cli.output import err, out\n"
        "for i in range(3):\n"
        "    out.print(f'out {i}')\n"
        "    err.print(f'err {i}', style='red')\n"
        "import sys; print('rich' in ' '.join(sys.modules))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=True
    )
    lines = found.stdout.decode().splitlines()
    assert lines == ["out 0", "err 0", "out 1", "err 1", "out 2", "err 2", "False"]
