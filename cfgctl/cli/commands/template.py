"""`cfgctl template list|show|upgrade`: the service templates of templates/ and the services
made from them (layer 4: `cfgctl.editing`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cfgctl.cli.options import FormatOpt, Rev, ServiceArg, TextOrJson
from cfgctl.cli.output import out, print_diagnostic
from cfgctl.cli.reporters import emit
from cfgctl.cli.state import STATE
from cfgctl.diagnostics import DiagnosedFailure
from cfgctl.errors import CheckFailed, InputError

if TYPE_CHECKING:
    from cfgctl.editing.templates import Template
    from cfgctl.editing.upgrade import UpgradePlan

__all__ = ["app", "template_list", "template_show", "template_upgrade"]

app = typer.Typer(rich_markup_mode=None)
template_app = typer.Typer(
    help="Service templates: list them, show their parameters, upgrade services made from them.",
    no_args_is_help=True,
)
app.add_typer(template_app, name="template")


@template_app.command("list")
def template_list(rev: Rev = None, fmt: FormatOpt = TextOrJson.text) -> None:
    """List the templates of templates/ with their version, schema and parameters, and the
    services made from each (with the version they were made from; "behind" when older).
    Exit 1 when a template.yaml is invalid (it is listed with its problem).

    Example: cfgctl template list
    """
    from cfgctl.editing.templates import template_rows

    rows = template_rows(STATE.snapshot(rev))
    emit(fmt.value, rows, lambda: _print_list(rows))
    if any("problem" in r for r in rows):
        raise CheckFailed(
            "a template.yaml is invalid (listed above)",
            hint="fix it; `cfgctl schema show --builtin template` prints its schema",
        )


def _print_list(rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.print("no templates in templates/ (a template is templates/NAME/template.yaml)")
    for row in rows:
        if "problem" in row:
            out.print(f"{row['name']}  invalid: {row['problem']}")
            continue
        params = ", ".join(p["name"] for p in row["parameters"]) or "-"
        out.print(f"{row['name']}  version {row['version']}  schema {row['schema']}")
        if row["description"]:
            out.print(f"  {row['description']}")
        out.print(f"  parameters: {params}")
        for s in row["services"]:
            behind = "  (behind: cfgctl template upgrade " + s["service"] + ")"
            out.print(f"  used by {s['service']} @{s['version']}{behind if s['behind'] else ''}")


@template_app.command("show")
def template_show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A folder of templates/.")],
    rev: Rev = None,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Show a template: its version, schema, typed parameters (type, required, default,
    constraints, description) and the files it renders.

    Example: cfgctl template show web-service
    """
    from cfgctl.editing.templates import read_template

    template = read_template(STATE.snapshot(rev), name)
    emit(fmt.value, template.to_dict(), lambda: _print_template(template))


def _print_template(template: Template) -> None:
    out.print(f"{template.name}  version {template.version}  ({template.spec_path})")
    if template.description:
        out.print(f"  {template.description}")
    out.print(f"schema: {template.schema}")
    out.print("parameters (--set NAME=VALUE):")
    for p in template.parameter_rows():
        flags = ["required"] if p["required"] else []
        if "default" in p:
            flags.append(f"default {json.dumps(p['default'])}")
        flags += [f"{k} {json.dumps(v)}" for k, v in p["constraints"].items()]
        out.print(f"  {p['name']}: {p['type']}  {', '.join(flags)}".rstrip())
        if p["description"]:
            out.print(f"      {p['description']}")
    out.print("files:")
    for path in sorted(template.files):
        out.print(f"  {path}")


@template_app.command("upgrade")
def template_upgrade(
    service: ServiceArg,
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Change a parameter, or give one the new version requires (repeatable).",
        ),
    ] = None,
    ours: Annotated[
        bool, typer.Option("--ours", help="On a conflict, keep the service's value.")
    ] = False,
    theirs: Annotated[
        bool, typer.Option("--theirs", help="On a conflict, take the new template's value.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and show the effect, but write nothing.")
    ] = False,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Re-apply the newest version of the template SERVICE was made from, keeping the
    service's own changes: a three-way merge, key by key, of the old version's output, the
    service's files and the new version's output (comments and order of the service's files
    kept). The old version's files come from the newest commit whose template.yaml has the
    version recorded in cfgctl.yaml (services.SERVICE.template).

    A key the service changed and the template changed otherwise is a conflict: refused
    (exit 1, nothing written) with every conflicting key, unless --ours or --theirs. Refused
    (exit 1) when the result fails validation. The record moves to the new version.

    Example: cfgctl template upgrade billing --dry-run
    """
    from cfgctl.editing.scaffold import parse_assignments
    from cfgctl.editing.upgrade import upgrade

    if ours and theirs:
        raise InputError("--ours and --theirs exclude each other", hint="pass one of them")
    prefer = "ours" if ours else "theirs" if theirs else None
    snap = STATE.snapshot()
    raw = parse_assignments(sets or [])
    try:
        plan = upgrade(snap, service, raw, prefer=prefer, dry_run=dry_run)
    except DiagnosedFailure as exc:
        for d in exc.diagnostics:
            print_diagnostic(d)
        raise
    data = {**plan.to_dict(), "written": bool(plan.writes) and not dry_run}
    emit(fmt.value, data, lambda: _print_upgrade(plan, dry_run))


def _print_upgrade(plan: UpgradePlan, dry_run: bool) -> None:
    from cfgctl.changes.report import text_lines

    if not plan.writes:
        out.print(
            f"{plan.service}: already made from {plan.template} version {plan.target}; "
            "nothing to do"
        )
        return
    verb = "would upgrade" if dry_run else "upgraded"
    out.print(f"{verb} {plan.service}: template {plan.template} @{plan.source} -> @{plan.target}")
    for merged in plan.files:
        if merged.changed:
            what = "removed" if merged.result is None else "; ".join(merged.changes)
            out.print(f"  {merged.rel}: {what}")
    if plan.schema is not None:
        out.print(f"  cfgctl.yaml: schema {plan.schema[0]} -> {plan.schema[1]}")
    if plan.diff is not None:
        for line in text_lines(plan.diff):
            out.print(line)
