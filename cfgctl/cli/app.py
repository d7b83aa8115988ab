"""The console script `cfgctl`: answers `--version` and `--help` at once, runs anything else.

Exit codes: 0 ok, 1 a check failed, 2 bad usage or input, 3 environment (missing tool or key),
70 a bug in cfgctl (with a one-line message; `-v` shows the traceback), 130 interrupted.

This module imports almost nothing: the typer application lives in `cfgctl.cli.group` and is
built only for a command line that needs it, and then loads only its command's module.
"""

from __future__ import annotations

import os
import sys

from cfgctl.cli.stdio import write_answer
from cfgctl.cli.table import fast_answer

TYPE_CHECKING = False  # typing is one more import on the fast path
if TYPE_CHECKING:
    from typing import Any

    import typer

    app: typer.Typer

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    # `from cfgctl.cli.app import app` (the tests' CliRunner) still finds the application.
    if name == "app":
        from cfgctl.cli.group import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> None:
    """The console script."""
    args = sys.argv[1:] if argv is None else argv
    # Click names the program after argv[0] (`python -m cfgctl` in the merge driver's case);
    # the ready-made help says `cfgctl`.
    # os.path, not pathlib: pathlib is one more import on the fast path.
    name = os.path.basename(sys.argv[0])  # noqa: PTH119
    answer = fast_answer(args) if name == "cfgctl" else None
    if answer is not None:
        code, text, on_stdout = answer
        sys.exit(write_answer(text, on_stdout) or code)
    if argv is not None:  # a call from Python: its caller goes on
        _run(args)
        return
    from cfgctl.cli.ending import end

    try:
        _run(args)
    except SystemExit as exc:
        end(exc.code)
    end(0)


def _run(args: list[str]) -> None:
    from cfgctl.cli.table import worktree_first

    # First of all: the work tree's Git status runs beside every import the command makes.
    start = worktree_first(args)
    probe = None
    if start is not None:
        from cfgctl.repo.gitstatus import StatusProbe

        probe = StatusProbe.start(start)

    from cfgctl.cli.output import err
    from cfgctl.cli.state import STATE

    try:
        STATE.probe = probe  # the first snapshot of the work tree takes its answer
        from cfgctl.cli.group import app

        app(args)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001  only bugs get here; 1 would mean "check failed"
        err.print(f"cfgctl: internal error: {type(exc).__name__}: {exc}")
        err.print("  this is a bug in cfgctl; run again with -v to see the traceback and report it")
        if STATE.verbose:
            import traceback

            traceback.print_exc()
        sys.exit(70)
    finally:  # the command's own end closes it too; not a usage error before it began
        STATE.close()
