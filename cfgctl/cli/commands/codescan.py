"""`cfgctl scan-code`: hard-coded values found in Python code, and moved into configuration
(`cfgctl.codescan`)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cfgctl.cli.output import out, print_diagnostic, print_json
from cfgctl.cli.state import STATE
from cfgctl.diagnostics import DiagnosedFailure
from cfgctl.errors import CheckFailed, InputError

if TYPE_CHECKING:
    from cfgctl.codescan.findings import ScanResult
    from cfgctl.codescan.fix import FixPlan
    from cfgctl.repo.snapshot import Snapshot

__all__ = ["app", "scan_code"]

app = typer.Typer(rich_markup_mode=None)


class ScanFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


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
FixOpt = Annotated[
    bool,
    typer.Option("--fix", help="Move the findings into configuration (needs --service)."),
]
ServiceOpt = Annotated[
    str | None,
    typer.Option("--service", "-s", metavar="SERVICE", help="--fix: the service they belong to."),
]
SelectOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--select",
        metavar="ID",
        help="--fix: only these findings (repeat it; default: all at --min-score).",
    ),
]
EnvOpt = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        metavar="ENV",
        help="--fix: the layer the values go into (default: the service's root environment).",
    ),
]
KeyOpt = Annotated[
    list[str] | None,
    typer.Option("--key", metavar="ID=KEY", help="--fix: a key of your own for a finding."),
]
ModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--model",
        metavar="FILE",
        help="--fix: the model module (default: cfgctl_settings.py in the top package).",
    ),
]
VerifyOpt = Annotated[
    str | None,
    typer.Option(
        "--verify",
        metavar="CMD",
        help="--fix: run CMD (your tests) before and after; keep the change only if both pass.",
    ),
]
VerifyTimeoutOpt = Annotated[
    float,
    typer.Option("--verify-timeout", metavar="SECONDS", help="--fix: the limit of each run."),
]
DryRunOpt = Annotated[
    bool,
    typer.Option("--dry-run", help="--fix: show the code, schema and config diffs only."),
]


@app.command("scan-code")
def scan_code(
    paths: PathsArg,
    fmt: FormatOpt = ScanFormat.text,
    min_score: MinScoreOpt = None,
    history: HistoryOpt = True,
    exit_code: ExitCodeOpt = False,
    fix: FixOpt = False,
    service: ServiceOpt = None,
    select: SelectOpt = None,
    env: EnvOpt = None,
    key: KeyOpt = None,
    model: ModelOpt = None,
    verify: VerifyOpt = None,
    verify_timeout: VerifyTimeoutOpt = 1800.0,
    dry_run: DryRunOpt = False,
) -> None:
    """Find the literals in Python code that look like configuration: ports, hosts, URLs,
    timeouts, pool sizes, retry counts, feature switches, log levels, paths, and credentials.

    Sources are read with Python's ast, never imported or run. Each finding has its
    file:line:col, an id (stable while the line moves), a suggested key (db.pool_size), a type,
    and a score from 0 to 1 with the reasons behind it: the name the value is bound to or passed
    as, the call it feeds, its shape, an os.environ.get default, and how often it changed in Git.
    Credentials are reported as secrets, their values never printed. Loop bounds, indices,
    0/1/-1 (but as a declared setting's default), comparisons, string formatting, messages, local
    variables and test files are left out.

    A file that does not parse (Python 2, a syntax error, a binary) is listed on stderr and
    skipped. --format sarif writes SARIF 2.1.0 for GitHub code scanning (actions/scan-code).

    With --fix --service SERVICE, the findings chosen (--select ID..., or all at --min-score)
    move into the configuration repository (-C, default: here): each key is declared in the
    service's schema (its type, the literal as default), its value written into the layer of
    --env (a secret into SERVICE.secrets.yaml, encrypted), its field added to the model module
    (frozen dataclasses and one settings = cfgctl.sdk.load(...), read from $CFGCTL_CONFIG), and
    the literal replaced by settings.KEY with LibCST (comments and formatting kept; in FastAPI
    and Flask route handlers, a dependency on a shared watch, so reloads reach them). Before
    anything is written, cfgctl proves that the new code is the old with only those literals
    replaced, and that every settings.KEY, read through the SDK from each affected
    environment's rendered configuration, equals its literal. --verify CMD also runs your
    tests before and after (CFGCTL_CONFIG set for the second run) and keeps the change only
    when both pass. Everything is written or nothing. Exit 1 when a check or the tests fail.

    Exit 0 (1 with --exit-code when something is found), 2 on bad input.

    Example: cfgctl scan-code src/ --min-score 0.7

    Example: cfgctl scan-code . --format sarif > scan.sarif

    Example: cfgctl scan-code app/ --fix --service payments --select CS6bb6751b --verify "pytest -q"
    """
    from cfgctl.codescan.findings import DEFAULT_MIN_SCORE
    from cfgctl.codescan.scan import scan_paths

    threshold = DEFAULT_MIN_SCORE if min_score is None else min_score
    if fix or service or select or key or model or verify or dry_run:
        if not fix or not service:
            raise InputError(
                "--service, --select, --env, --key, --model, --verify and --dry-run go with --fix",
                hint="e.g. cfgctl scan-code app/ --fix --service payments --dry-run",
            )
        _fix(paths, service, select, env, key, model, verify, verify_timeout, dry_run, fmt,
             threshold, history)  # fmt: skip
        return
    result = scan_paths(paths, min_score=threshold, history=history)
    for skipped in result.skipped:
        where = f"{skipped.path}:{skipped.line}" if skipped.line else skipped.path
        sys.stderr.write(f"scan-code: skipped {where}: {skipped.reason}\n")
    if fmt is ScanFormat.json:
        print_json(result.to_dict())
    elif fmt is ScanFormat.sarif:
        from cfgctl._version import __version__
        from cfgctl.codescan.sarif import dumps, to_sarif

        sys.stdout.write(dumps(to_sarif(result, version=__version__, base=Path.cwd())))
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


def _keys(pairs: list[str] | None) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        ident, eq, key = pair.partition("=")
        if not eq or not ident.strip() or not key.strip():
            raise InputError(
                f"--key {pair!r} is not ID=KEY", hint="e.g. --key CS6bb6751b=db.pool.max"
            )
        out[ident.strip()] = key.strip()
    return out


def _fix(
    paths: list[Path],
    service: str,
    select: list[str] | None,
    env: str | None,
    key: list[str] | None,
    model: Path | None,
    verify: str | None,
    verify_timeout: float,
    dry_run: bool,
    fmt: ScanFormat,
    threshold: float,
    history: bool,
) -> None:
    if fmt is ScanFormat.sarif:
        raise InputError("--fix reports as text or json", hint="drop --format sarif")
    if verify is not None and not verify.strip():
        raise InputError(
            "--verify is empty: nothing would test the change", hint='e.g. --verify "pytest -q"'
        )
    if not 0 < verify_timeout < float("inf"):  # nan fails this too
        raise InputError(
            f"--verify-timeout {verify_timeout} is not a number of seconds above 0", hint="e.g. 600"
        )
    options: dict[str, Any] = dict(
        select=select, env=env, keys=_keys(key), model=model, min_score=threshold, history=history
    )
    snap = STATE.snapshot()
    try:
        _run_fix(snap, paths, service, options, verify, verify_timeout, dry_run, fmt)
    except DiagnosedFailure as exc:  # the validation problems the result would have
        for d in exc.diagnostics:
            print_diagnostic(d)
        raise


def _run_fix(
    snap: Snapshot,
    paths: list[Path],
    service: str,
    options: dict[str, Any],
    verify: str | None,
    verify_timeout: float,
    dry_run: bool,
    fmt: ScanFormat,
) -> None:
    from cfgctl.codescan.apply import apply_fix
    from cfgctl.codescan.fix import plan_fix

    if dry_run:
        plan = plan_fix(snap, paths, service, **options)
        before = {rel: snap.files[rel].read() for rel in plan.repo_writes if rel in snap.files}
        if fmt is ScanFormat.json:
            print_json({**plan.to_dict(), "dry_run": True, "diff": plan.diffs(before)})
            return
        for diff in plan.diffs(before):
            sys.stdout.write(diff if diff.endswith("\n") else diff + "\n")
        _print_plan(plan, [], dry_run=True)
        return
    result = apply_fix(
        snap, paths, service, verify=verify, verify_timeout=verify_timeout, **options
    )
    if fmt is ScanFormat.json:
        print_json({**result.plan.to_dict(), "verified": result.verified, "dry_run": False})
        return
    _print_plan(result.plan, result.verified, dry_run=False)


def _print_plan(plan: FixPlan, verified: list[str], *, dry_run: bool) -> None:
    from cfgctl.codescan.sources import shown_path

    verb = "would move" if dry_run else "moved"
    for f, key in plan.moved:
        kind = " (secret, encrypted)" if f.kind == "secret" else ""
        out.print(f"{verb} {f.id} {f.location} -> settings.{key}{kind}")
    for line in [*plan.proofs, *verified, *plan.notes]:
        out.print(f"  {line}")
    files = [shown_path(p) for p in plan.code]
    if plan.model is not None:
        files.append(shown_path(plan.model[0]))
    files += sorted(plan.repo_writes)
    out.print(f"{'would write' if dry_run else 'wrote'}: {', '.join(files)}")
