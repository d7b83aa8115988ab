"""`cfgctl scan-code`: hard-coded values found in Python code, and moved into configuration
(`cfgctl.codescan`)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cfgctl.cli.output import out, print_json
from cfgctl.errors import CheckFailed

if TYPE_CHECKING:
    from cfgctl.codescan.findings import ScanResult

__all__ = ["app", "scan_code"]

app = typer.Typer(rich_markup_mode=None)


class ScanFormat(StrEnum):
    text = "text"
    json = "json"


PathsArg = Annotated[
    list[Path], typer.Argument(metavar="PATH...", help="Python files or folders to scan.")
]
FormatOpt = Annotated[ScanFormat, typer.Option("--format", "-f", help="The report's format.")]
MinScoreOpt = Annotated[
    float | None,
    typer.Option(
        "--min-score",
        metavar="S",
        help="Report findings scoring at least S (0..1) [default: 0.5].",
    ),
]
HistoryOpt = Annotated[
    bool,
    typer.Option(
        "--history/--no-history",
        help="Weigh how often each literal changed in the file's Git history.",
    ),
]
ExitCodeOpt = Annotated[
    bool, typer.Option("--exit-code", help="Exit 1 when anything is found (for CI).")
]


@app.command("scan-code")
def scan_code(
    paths: PathsArg,
    fmt: FormatOpt = ScanFormat.text,
    min_score: MinScoreOpt = None,
    history: HistoryOpt = True,
    exit_code: ExitCodeOpt = False,
) -> None:
    """Find the literals in Python code that look like configuration: ports, hosts, URLs,
    timeouts, pool sizes, retry counts, feature switches, log levels, paths, and credentials.

    Sources are read with Python's ast, never imported or run. Each finding has its
    file:line:col, an id (stable while the line moves), a suggested key (db.pool_size), a type,
    and a score from 0 to 1 with the reasons behind it: the name the value is bound to or passed
    as, the call it feeds, its shape, an os.environ.get default, and how often it changed in Git.
    Credentials are reported as secrets, their values never printed. Loop bounds, indices,
    0/1/-1, comparisons, string formatting, messages and test files are left out.

    A file that does not parse (Python 2, a syntax error, a binary) is listed on stderr and
    skipped. Exit 0 (1 with --exit-code when something is found), 2 on bad input.

    Example: cfgctl scan-code src/ --min-score 0.7

    Example: cfgctl scan-code . --format json > findings.json
    """
    from cfgctl.codescan.findings import DEFAULT_MIN_SCORE
    from cfgctl.codescan.scan import scan_paths

    threshold = DEFAULT_MIN_SCORE if min_score is None else min_score
    result = scan_paths(paths, min_score=threshold, history=history)
    for skipped in result.skipped:
        where = f"{skipped.path}:{skipped.line}" if skipped.line else skipped.path
        sys.stderr.write(f"scan-code: skipped {where}: {skipped.reason}\n")
    if fmt is ScanFormat.json:
        print_json(result.to_dict())
    else:
        _print_text(result, threshold)
    if exit_code and result.findings:
        raise CheckFailed(f"{len(result.findings)} hard-coded value(s) found")


def _print_text(result: ScanResult, threshold: float) -> None:
    for f in result.findings:
        kind = "secret " if f.kind == "secret" else ""
        out.print(
            f"{f.location}: {f.id} {kind}{f.key} = {f.shown!r} ({f.type}), score {f.score:.2f}"
        )
        out.print(f"    {'; '.join(f.reasons)}")
    secrets = sum(f.kind == "secret" for f in result.findings)
    found = len(result.findings)
    out.print(
        f"{found} finding{'s' * (found != 1)} ({secrets} secret{'s' * (secrets != 1)}) at score "
        f">= {threshold:g} in {result.files} file{'s' * (result.files != 1)} "
        f"({result.lines} lines); {len(result.skipped)} skipped"
    )
