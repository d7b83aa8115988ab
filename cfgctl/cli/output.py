"""Printing: reports on stdout, diagnostics on stderr, errors as one line each.

rich drops colour when piped and honours NO_COLOR; everything is printed with markup and emoji
codes off and soft wrapping, so a `[red]` or a `:x:` in user data stays text and a
`path:line:col:` stays on one line. A reader that goes away (`cfgctl diff | head`) raises
BrokenPipeError to the error boundary (exit 141), where rich alone would exit 1 ("check failed").
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from cfgctl.diagnostics import Diagnostic
    from cfgctl.errors import CfgctlError

__all__ = [
    "LazyConsole",
    "err",
    "out",
    "pairs_text",
    "print_diagnostic",
    "print_json",
    "report_error",
    "scalar_text",
]


# The control codes rich strips from text (rich.control.STRIP_CONTROL_CODES: bell, backspace,
# vertical tab, form feed, carriage return).
_STRIP = dict.fromkeys((7, 8, 11, 12, 13))


def _terminal(stream: Any) -> bool:
    """Whether rich would treat `stream` as a terminal (and style what it prints): its
    TTY_COMPATIBLE and FORCE_COLOR first, then isatty()."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = os.environ.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class LazyConsole:
    """A rich `Console` made on first use: rich costs ~50 ms to import, which a command that
    prints only JSON, plain lines or nothing should not pay. Plain text bound for a pipe or a
    file (no terminal: no colour, no wrapping) is written as rich writes it: its control codes
    stripped (tabs, which rich expands by display width, go through rich)."""

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
        stream = sys.stderr if self._stderr else sys.stdout
        if (
            self._console is None
            and kwargs.keys() <= {"style"}
            and all(isinstance(o, str) and "\t" not in o for o in objects)
            and not _terminal(stream)
        ):
            stream.write(" ".join(objects).translate(_STRIP) + "\n")
            stream.flush()  # as rich does: stdout and stderr lines keep their order in one pipe
            return
        self.console.print(*objects, **kwargs)


out = LazyConsole(stderr=False)
err = LazyConsole(stderr=True)
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
