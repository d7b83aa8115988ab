"""A typer group not (yet) in the root CLI driven as the root would drive it: a CfgctlError
becomes one line on stderr and its exit code, and the output joins the session's leak check."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from cfgctl.errors import CfgctlError
from tests.support.cli import OUTPUTS, Result


def run_app(app: Any, *args: str) -> Result:
    """`app ARGS` in this process; stdout and stderr apart."""
    result = CliRunner().invoke(app, list(args))
    stderr = result.stderr
    code = result.exit_code
    exc = result.exception
    if isinstance(exc, CfgctlError):
        prefix = f"{exc.location}: " if exc.location else ""
        stderr += f"{prefix}error: {exc.message}\n" + (f"hint: {exc.hint}\n" if exc.hint else "")
        code = exc.exit_code
    elif exc is not None and not isinstance(exc, SystemExit):
        raise exc
    out = Result(code, result.stdout, stderr)
    OUTPUTS.append((tuple(args), out.output))
    return out
