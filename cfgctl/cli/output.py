"""Printing: reports on stdout, diagnostics on stderr, errors as one line each.

rich drops colour when piped and honours NO_COLOR; diagnostics are printed with markup off and
soft wrapping, so a `[red]` in user data stays text and a `path:line:col:` stays on one line.
"""

from __future__ import annotations

import json
import logging
import sys
from enum import StrEnum
from typing import Any

from rich.console import Console

from cfgctl.diagnostics import Diagnostic, Report
from cfgctl.errors import CfgctlError

__all__ = [
    "Format",
    "TextOrJson",
    "err",
    "out",
    "print_diagnostic",
    "print_json",
    "print_report",
    "report_error",
]

out = Console(soft_wrap=True, markup=False, highlight=False)
err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)
log = logging.getLogger("cfgctl")


class TextOrJson(StrEnum):
    text = "text"
    json = "json"


class Format(StrEnum):
    text = "text"
    json = "json"
    github = "github"


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


def _text_line(d: Diagnostic) -> str:
    return f"{d.location}: {d.severity}: {d.message}{pairs_text(d)}"


def _github_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def print_diagnostic(d: Diagnostic) -> None:
    err.print(_text_line(d), style="red" if d.severity == "error" else "yellow")
    if d.hint:
        err.print(f"  hint: {d.hint}", style="dim")


def print_report(
    report: Report, fmt: Format, *, what: str = "checked", path_prefix: str = ""
) -> None:
    """Text: diagnostics on stderr, the summary on stdout. JSON: the whole report on stdout.
    GitHub: one workflow annotation per diagnostic on stdout, paths from the Git root (the
    config repository's folder in it is `path_prefix`)."""
    if fmt is Format.json:
        print_json(report.to_dict())
        return
    if fmt is Format.github:
        for d in report.diagnostics:
            loc = d.location
            # GitHub resolves annotation paths from the root of the Git repository.
            props = [f"file={_github_escape(path_prefix + loc.path, prop=True)}"]
            if loc.line:
                props.append(f"line={loc.line}")
            if loc.column:
                props.append(f"col={loc.column}")
            message = d.message + pairs_text(d) + (f" (hint: {d.hint})" if d.hint else "")
            sys.stdout.write(f"::{d.severity} {','.join(props)}::{_github_escape(message)}\n")
        sys.stdout.write(_summary(report, what) + "\n")
        return
    for d in report.diagnostics:
        print_diagnostic(d)
    style = "green" if report.ok else "red"
    out.print(_summary(report, what), style=style)


def _summary(report: Report, what: str) -> str:
    parts = [f"{report.checked_files} files"]
    if report.checked_pairs:
        parts.append(f"{report.checked_pairs} service/environment pairs")
    counts = f"{len(report.errors)} errors, {len(report.warnings)} warnings"
    verdict = "ok" if report.ok else "failed"
    return f"{verdict}: {what} {' and '.join(parts)}; {counts}"
