"""The typer application: the root's options, the error boundary and lazy command loading.

Each top-level command (or group) is imported from its module in `cfgctl.cli.commands` when it
runs, never before (click's lazy group pattern); `cfgctl.cli.table` names the modules.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from cfgctl import telemetry
from cfgctl._version import __version__
from cfgctl.cli.output import report_error
from cfgctl.cli.state import STATE
from cfgctl.cli.table import COMMANDS, DESCRIPTION
from cfgctl.errors import CfgctlError, EnvError

__all__ = ["ErrorBoundary", "LazyGroup", "app", "load_command"]


def load_command(name: str) -> Any:
    """The click command (or group) `name`, from the one module that defines it."""
    module = importlib.import_module(COMMANDS[name].module)
    commands: Any = typer.main.get_group(module.app).commands
    return commands[name]


class _LazyCommands(Mapping[str, Any]):
    """The table's names; a command's module is imported when the command is looked up."""

    def __init__(self) -> None:
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in COMMANDS:
            raise KeyError(name)
        if name not in self._loaded:
            self._loaded[name] = load_command(name)
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


class LazyGroup(TyperGroup):
    """A group whose commands are the table's, each imported only when it is looked up."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands()  # type: ignore[assignment]

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return self.commands.get(cmd_name)


# Processes that are services of their own trace as such (cfgctl-agent, cfgctl-serve), not as
# one CLI command lasting for days.
_UNTRACED = frozenset({"agent", "serve"})


class ErrorBoundary(LazyGroup):
    """Turns every CfgctlError into one line on stderr and its exit code; each command runs in
    a root span `cfgctl <command>` (cfgctl/telemetry.py)."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, cmd, rest = super().resolve_command(ctx, args)
        if name is not None and name not in _UNTRACED:
            # The span's name only: click takes the returned name for the usage line.
            span = name
            sub = getattr(cmd, "commands", None)
            if isinstance(sub, Mapping) and rest and rest[0] in sub:
                span = f"{name} {rest[0]}"
            telemetry.begin_command(f"cfgctl {span}")
        return name, cmd, rest

    def invoke(self, ctx: Any) -> Any:  # click.Context, vendored by newer typer
        code, why = 0, None
        try:
            return self._invoke(ctx)
        except BaseException as exc:
            code, why = _outcome(exc)
            raise
        finally:
            STATE.close()
            telemetry.end_command(code, why)

    def _invoke(self, ctx: Any) -> Any:
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


def _outcome(exc: BaseException) -> tuple[int, str | None]:
    """The exit code an exception leaving a command becomes, for the command's span."""
    code = getattr(exc, "exit_code", None)
    if isinstance(exc, SystemExit):
        code = exc.code if isinstance(exc.code, int) else 1
    if isinstance(code, int):
        return code, None
    return 70, type(exc).__name__


app = typer.Typer(
    cls=ErrorBoundary,
    help=DESCRIPTION,
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
        from cfgctl.cli.stdio import write_answer

        raise typer.Exit(write_answer(f"cfgctl {__version__}\n"))


def _setup_logging(verbose: int, log_format: str) -> None:
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
            metavar="<dir>",  # the same under every typer version (0.28 says <directory>)
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
    _setup_logging(verbose, log_format)
