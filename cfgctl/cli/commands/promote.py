"""`cfgctl promote` and `cfgctl drift`: values between environments (layer 5: `cfgctl.operate`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cfgctl.cli.options import FormatOpt, TextOrJson
from cfgctl.cli.output import out, print_diagnostic
from cfgctl.cli.reporters import emit
from cfgctl.cli.state import STATE
from cfgctl.diagnostics import DiagnosedFailure

if TYPE_CHECKING:
    from cfgctl.operate.drift import DriftReport
    from cfgctl.operate.promote import PromotionPlan

__all__ = ["app", "drift", "promote"]

app = typer.Typer(rich_markup_mode=None)

FromOpt = Annotated[
    str, typer.Option("--from", metavar="ENV", help="The environment whose values are copied.")
]
KeysOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--keys",
        metavar="GLOB",
        help="Only keys these dotted globs select (* within a key, ** across keys); repeatable.",
    ),
]
ServicesArg = Annotated[
    list[str] | None,
    typer.Argument(metavar="[SERVICE]...", help="The services (default: every one)."),
]


@app.command()
def promote(
    source: FromOpt,
    target: Annotated[
        str, typer.Option("--to", metavar="ENV", help="The environment that receives them.")
    ],
    services: ServicesArg = None,
    keys: KeysOpt = None,
    branch: Annotated[
        str | None,
        typer.Option(
            "--branch",
            metavar="NAME",
            help="Commit the change on this new branch (from HEAD) for a pull request; the "
            "work tree is not touched.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and show the effect, but write nothing.")
    ] = False,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Make the effective values of --to equal to those of --from, writing the fewest values.

    For each selected key that differs, the value is set in (or, when the target would then
    inherit the source's value, removed from) config/TO/SERVICE.yaml, comments kept; secrets go
    to SERVICE.secrets.yaml, decrypted in memory and encrypted for the target's .sops.yaml rule,
    and are skipped when no key at hand opens them. A key the source lacks is removed from the
    target's file; one the target only inherits is listed as skipped. Keys that differ on
    purpose are never promoted: env_local: globs of the service in cfgctl.yaml, or schema
    properties with x-cfgctl-env-local: true; they are listed as skipped.

    The result must validate for the target and every environment inheriting it, else nothing
    is written (exit 1). Files are written all or nothing under the repository lock; --branch
    commits them on a new branch instead. --dry-run prints the semantic diff.

    Example: cfgctl promote payments --from staging --to prod --keys 'db.*' --dry-run
    """
    from cfgctl.operate.promote import promote as run

    snap = STATE.snapshot()
    try:
        plan = run(
            snap, source, target, services or [], keys=keys or [], dry_run=dry_run, branch=branch
        )
    except DiagnosedFailure as exc:
        for d in exc.diagnostics:
            print_diagnostic(d)
        raise
    written = not dry_run and bool(plan.writes)
    emit(fmt.value, {**plan.to_dict(), "written": written}, lambda: _print(plan, dry_run))


def _print(plan: PromotionPlan, dry_run: bool) -> None:
    from cfgctl.changes.report import text_lines, value_text
    from cfgctl.repo.keypath import dotted_path

    head = f"{plan.source} -> {plan.target}"
    if not plan.moves:
        why = "only skipped keys differ" if plan.skipped else "the selected keys are equal"
        out.print(f"nothing to promote: {head} ({why})")
    else:
        out.print(f"{'would promote' if dry_run else 'promoted'} {head}")
    for m in plan.moves:
        what = f"unset {dotted_path(m.path)}"
        if m.action == "set":
            shown = "(secret)" if m.secret else value_text(m.value)
            what = f"set {dotted_path(m.path)} = {shown}"
        out.print(f"  {m.service}: {what} in {m.file}")
    for s in plan.skipped:
        out.print(f"  {s.service}: skipped {dotted_path(s.path)} ({s.reason}: {s.detail})")
    if plan.commit is not None:
        out.print(f"committed {plan.commit[:12]} on new branch {plan.branch} (work tree unchanged)")
        out.print(f"  push it for a pull request: git push origin {plan.branch}")
    if plan.diff is not None:
        for line in text_lines(plan.diff):
            out.print(line)


@app.command()
def drift(
    env: Annotated[
        str, typer.Option("--env", "-e", metavar="ENV", help="The environment to check.")
    ],
    source: Annotated[
        str,
        typer.Option("--from", metavar="ENV", help="The environment its values should pass first."),
    ],
    services: ServicesArg = None,
    keys: KeysOpt = None,
    rev: Annotated[
        str, typer.Option("--rev", metavar="REV", help="Check this revision instead of HEAD.")
    ] = "HEAD",
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """List the keys of --env whose value never passed through --from: changes that skipped
    the lower environment.

    A key drifts when its effective value at REV was never the effective value of the same key
    in the --from environment at any commit of REV's first-parent history. Each is shown with
    the commit that last changed it in --env. Env-local keys and secrets are not compared.
    Exit 1 when a key drifts, 0 when none does.

    Example: cfgctl drift --env prod --from staging
    """
    from cfgctl.operate.drift import find_drift

    report = find_drift(STATE.snapshot(rev), env, source, services or [], keys=keys or [])
    emit(fmt.value, report.to_dict(), lambda: _print_drift(report))
    raise typer.Exit(1 if report.drifted else 0)


def _print_drift(report: DriftReport) -> None:
    from cfgctl.changes.report import value_text
    from cfgctl.repo.keypath import dotted_path

    where = f"{report.commits} commits to {report.rev}"
    if not report.keys:
        out.print(f"no drift: every value of {report.env} passed through {report.source} ({where})")
    for k in report.keys:
        out.print(f"{k.service}: {dotted_path(k.path)} = {value_text(k.value)}")
        if k.setter is not None:
            s = k.setter
            out.print(f"    set by {s.commit[:12]}  {s.date[:10]}  {s.author}  {s.subject}")
    if report.keys:
        out.print(
            f"{len(report.keys)} key(s) of {report.env} never passed through {report.source} "
            f"({where})"
        )
    if report.not_compared:
        out.print(f"not compared: {len(report.not_compared)} env-local or secret key(s)")
