"""Printing: reports on stdout, diagnostics on stderr, errors as one line each.

rich drops colour when piped and honours NO_COLOR; everything is printed with markup and emoji
codes off and soft wrapping, so a `[red]` or a `:x:` in user data stays text and a
`path:line:col:` stays on one line. A reader that goes away (`cfgctl diff | head`) raises
BrokenPipeError to the error boundary (exit 141), where rich alone would exit 1 ("check failed").
"""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from cfgctl.diagnostics import Diagnostic
    from cfgctl.errors import CfgctlError

__all__ = [
    "err",
    "out",
    "pairs_text",
    "print_diagnostic",
    "print_json",
    "report_error",
    "scalar_text",
]


class _LazyConsole:
    """A rich `Console` made on first use: rich costs ~30 ms to import, which a command that
    prints only JSON (or nothing) should not pay."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            class _Console(Console):
                def on_broken_pipe(self) -> None:
                    raise BrokenPipeError  # the boundary says 141; rich would exit 1

            self._console = _Console(
                stderr=self._stderr, soft_wrap=True, markup=False, highlight=False, emoji=False
            )
        return self._console

    def print(self, *objects: Any, **kwargs: Any) -> None:
        self.console.print(*objects, **kwargs)


out = _LazyConsole(stderr=False)
err = _LazyConsole(stderr=True)
log = logging.getLogger("cfgctl")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def report_error(exc: CfgctlError) -> None:
    """One line `path:line:col: error: message`, and `hint: ...` under it."""
    prefix = f"{exc.location}: " if exc.location else ""
    err.print(f"{prefix}error: {exc.message}", style="red")
    if exc.hint:
        err.print(f"  hint: {exc.hint}", style="dim")
    log.debug("error exit %d: %s", exc.exit_code, exc.message)


def pairs_text(d: Diagnostic, limit: int = 4) -> str:
    if not d.pairs:
        return ""
    names = [f"{s}@{e}" for s, e in d.pairs]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f" [{', '.join(names[:limit])}{more}]"


def print_diagnostic(d: Diagnostic) -> None:
    err.print(
        f"{d.location}: {d.severity}: {d.message}{pairs_text(d)}",
        style="red" if d.severity == "error" else "yellow",
    )
    if d.hint:
        err.print(f"  hint: {d.hint}", style="dim")


def scalar_text(value: Any) -> str:
    """A value on one line as a user typed it: text as is, a mapping or list as YAML."""
    if isinstance(value, (dict, list)):
        from cfgctl.repo.yamlwrite import dump_plain

        return dump_plain(value).rstrip("\n")
    return json.dumps(value) if not isinstance(value, str) else value
