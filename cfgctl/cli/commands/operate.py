"""`cfgctl migrate`: the operations of a repository's life (layer 5: `cfgctl.operate`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cfgctl.cli.options import FormatOpt, TextOrJson
from cfgctl.cli.output import out, print_diagnostic
from cfgctl.cli.reporters import emit
from cfgctl.cli.state import STATE
from cfgctl.diagnostics import DiagnosedFailure

if TYPE_CHECKING:
    from cfgctl.operate.migrate import MigrationPlan

__all__ = ["app", "migrate"]

app = typer.Typer(rich_markup_mode=None)


@app.command()
def migrate(
    services: Annotated[
        list[str] | None,
        typer.Argument(metavar="SERVICE...", help="The services to migrate (or --all)."),
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Every service of the repository.")
    ] = False,
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="NAME@N", help="The version to reach (default: the newest)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check and show the effect, but write nothing."),
    ] = False,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Move services to a later version of their schema with its migration files.

    schemas/NAME.vN.migration.yaml turns a configuration of version N-1 into one of version N
    (rename, move, convert, map, default, remove; `cfgctl schema show --builtin migration`).
    The chain from each service's pinned version (schema: NAME@N in cfgctl.yaml) to the target
    applies to every layer holding its paths: SERVICE.yaml of each environment, _defaults.yaml
    when every service reading it moves along, SERVICE.secrets.yaml (decrypted in memory,
    encrypted again for the same recipients). Comments and key order are kept; the pin moves.

    Refused, nothing written: exit 2 for a bad migration file, or an operation reading a key
    that version N-1 does not have (its file:line:col and the nearest key), or when migrating
    the layers would change an effective value the operations do not declare; exit 1 when the
    result breaks the new schema.
    Everything is written or nothing. --dry-run prints the semantic diff of every effective
    configuration it changes.

    Example: cfgctl migrate payments --dry-run
    """
    from cfgctl.operate.migrate import migrate as run

    snap = STATE.snapshot()
    try:
        plan = run(snap, services or [], to=to, everything=everything, dry_run=dry_run)
    except DiagnosedFailure as exc:
        for d in exc.diagnostics:
            print_diagnostic(d)
        raise
    emit(fmt.value, {**plan.to_dict(), "written": not dry_run}, lambda: _print(plan, dry_run))


def _print(plan: MigrationPlan, dry_run: bool) -> None:
    from cfgctl.changes.report import text_lines

    for service in plan.unchanged:
        out.print(f"{service}: already at the target version")
    if not plan.moves:
        return
    verb = "would migrate" if dry_run else "migrated"
    for move in plan.moves:
        steps = " -> ".join(f"@{v}" for v in range(move.source, move.target + 1))
        out.print(f"{verb} {move.service}: {move.schema} {steps}")
    for rel, change in plan.edits:
        out.print(f"  {rel}: {change}")
    if plan.diff is not None:
        for line in text_lines(plan.diff):
            out.print(line)
