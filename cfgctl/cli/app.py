"""The `cfgctl` command: thin typer commands over the library, one error boundary.

Exit codes: 0 ok, 1 a check failed, 2 bad usage or input, 3 environment (missing tool or key),
70 a bug in cfgctl (with a one-line message; `-v` shows the traceback).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from cfgctl._version import __version__
from cfgctl.cli.commands import agent as commands_agent
from cfgctl.cli.commands import pr as commands_pr
from cfgctl.cli.commands import repo as commands_repo
from cfgctl.cli.commands import review as commands_review
from cfgctl.cli.commands import secrets as commands_secrets
from cfgctl.cli.output import err, report_error
from cfgctl.cli.state import STATE
from cfgctl.errors import CfgctlError, EnvError

__all__ = ["app", "main"]


class ErrorBoundary(TyperGroup):
    """Turns every CfgctlError into one line on stderr and its exit code."""

    def invoke(self, ctx: Any) -> Any:  # click.Context, vendored by newer typer
        try:
            return super().invoke(ctx)
        except CfgctlError as exc:
            report_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            # The reader went away (`cfgctl render ... | head`): stop quietly, as Unix tools do.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(141) from None
        except OSError as exc:  # a full disk, a read-only folder: the environment, exit 3
            where = f" ({exc.filename})" if exc.filename else ""
            report_error(
                EnvError(f"{exc.strerror or exc}{where}", hint="check the disk and permissions")
            )
            raise typer.Exit(EnvError.exit_code) from None
        finally:
            STATE.close()


app = typer.Typer(
    cls=ErrorBoundary,
    help="Configuration as code: layered YAML in Git, validated against JSON Schema.\n\n"
    "Run inside a config repository (the folder holding cfgctl.yaml, or below it), or pass -C DIR.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, ensure_ascii=False, default=str)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"cfgctl {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def root(
    repo: Annotated[
        Path | None,
        typer.Option(
            "-C",
            "--repo",
            help="The config repository (default: the nearest folder holding cfgctl.yaml "
            "at or above the current one).",
            file_okay=False,
        ),
    ] = None,
    verbose: Annotated[
        int,
        typer.Option(
            "-v",
            "--verbose",
            count=True,
            show_default=False,
            help="Log what cfgctl does (-vv: more).",
        ),
    ] = 0,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format", metavar="text|json", help="Log lines as text or JSON, on stderr."
        ),
    ] = "text",
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write .cfgctl/cache/.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    if log_format not in ("text", "json"):
        raise typer.BadParameter("choose text or json", param_hint="--log-format")
    STATE.repo = repo
    STATE.use_cache = not no_cache
    STATE.verbose = verbose
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _JsonFormatter() if log_format == "json" else logging.Formatter("cfgctl: %(message)s")
    )
    logger = logging.getLogger("cfgctl")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(
        logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    )


commands_repo.register(app)
commands_review.register(app)
commands_secrets.register(app)
commands_pr.register(app)
commands_agent.register(app)


def main() -> None:
    """The console script."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001  only bugs get here; 1 would mean "check failed"
        err.print(f"cfgctl: internal error: {type(exc).__name__}: {exc}")
        err.print("  this is a bug in cfgctl; run again with -v to see the traceback and report it")
        if STATE.verbose:
            traceback.print_exc()
        sys.exit(70)
