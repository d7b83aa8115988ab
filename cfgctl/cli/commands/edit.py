"""`cfgctl init|set|new service`: new repositories, changed values, new services."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cfgctl.cli.options import EnvOpt, FormatOpt, KeyArg, ServiceArg, TextOrJson
from cfgctl.cli.output import out, print_diagnostic, scalar_text
from cfgctl.cli.reporters import emit
from cfgctl.cli.state import STATE
from cfgctl.diagnostics import DiagnosedFailure

if TYPE_CHECKING:
    from cfgctl.editing.values import SetResult

__all__ = ["app", "init", "new_service", "set_", "unset"]

app = typer.Typer(rich_markup_mode=None)
new_app = typer.Typer(help="Create new things from templates.", no_args_is_help=True)
app.add_typer(new_app, name="new")


@app.command()
def init(
    directory: Annotated[
        Path, typer.Argument(metavar="DIRECTORY", help="The new repository's folder.")
    ],
    template: Annotated[
        str,
        typer.Option(
            "--template", "-t", metavar="NAME", help="The example to start from (default)."
        ),
    ] = "default",
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Create a working example config repository in DIRECTORY and commit it with Git.

    It holds 4 environments (base, staging, prod inheriting base, prod-eu inheriting prod),
    2 services, their JSON Schemas and a service template. Try next:
    `cfgctl -C DIRECTORY validate`.
    """
    from cfgctl.editing.scaffold import init_repo

    files = init_repo(directory, template)

    def text() -> None:
        out.print(f"created {directory} ({len(files)} files, committed on branch main)")
        out.print(f"next: cd {directory} && cfgctl validate && cfgctl render payments --env prod")

    emit(fmt.value, {"directory": str(directory), "template": template, "files": files}, text)


@app.command(name="set")
def set_(
    service: ServiceArg,
    key: KeyArg,
    value: Annotated[
        str,
        typer.Argument(metavar="VALUE", help="The value, read as YAML: 8080, true, [a, b]."),
    ],
    env: EnvOpt,
    string: Annotated[
        bool, typer.Option("--string", help="Store VALUE as text, even 8080 or true.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check, but do not write.")] = False,
    commit: Annotated[
        bool,
        typer.Option(
            "--commit",
            help="Commit the file (and nothing else) on the checked-out branch, with a "
            "Traceparent: trailer that the agent's traces continue.",
        ),
    ] = False,
    message: Annotated[
        str | None,
        typer.Option("--message", "-m", metavar="TEXT", help="The commit message (with --commit)."),
    ] = None,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Set KEY to VALUE in config/ENV/SERVICE.yaml, keeping comments and key order.

    Refused (exit 1, file untouched) when the repository would then fail validation; the
    file is written atomically. Secret keys are refused: they belong in
    config/ENV/SERVICE.secrets.yaml, encrypted with SOPS. --commit commits the file
    (default message: "Set KEY in ENV/SERVICE").

    Example: cfgctl set payments db.pool_size 40 --env prod --commit
    """
    from cfgctl.editing.values import parse_value, set_value
    from cfgctl.repo.keypath import parse_key

    if message is not None and not commit:
        raise typer.BadParameter("--message goes with --commit", param_hint="--message")
    snap = STATE.snapshot()
    path = parse_key(key)
    text = message or f"Set {key} in {env}/{service}"
    try:
        result = set_value(
            snap,
            service,
            env,
            path,
            parse_value(value, string=string),
            dry_run=dry_run,
            commit=text if commit else None,
        )
    except DiagnosedFailure as exc:
        for d in exc.diagnostics:
            print_diagnostic(d)
        raise
    emit(fmt.value, _set_dict(result, dry_run), lambda: _print_set(result, dry_run))


def _set_dict(result: SetResult, dry_run: bool) -> dict[str, object]:
    return {
        "file": result.path,
        "key": result.key,
        "old": result.old,
        "new": result.new,
        "changed": result.changed,
        "written": result.changed and not dry_run,
        "commit": result.commit,
    }


def _print_set(result: SetResult, dry_run: bool) -> None:
    if not result.changed:
        out.print(f"{result.path}: {result.key} is already {scalar_text(result.new)}")
    else:
        verb = "would set" if dry_run else "set"
        out.print(f"{result.path}: {verb} {result.key} = {scalar_text(result.new)}")
        if result.commit is not None:
            out.print(f"committed {result.commit[:12]}")


@app.command()
def unset(
    service: ServiceArg,
    key: KeyArg,
    env: EnvOpt,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check, but do not write.")] = False,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Remove KEY from config/ENV/SERVICE.yaml, keeping comments and key order: ENV then
    inherits the value of the environments above (or has none).

    Refused (exit 2) when that file does not set KEY (the message names the layers that do);
    refused (exit 1, file untouched) when the repository would then fail validation, e.g. a
    required key with nothing to inherit.

    Example: cfgctl unset payments db.pool_size --env prod
    """
    from cfgctl.editing.values import unset_value
    from cfgctl.repo.keypath import parse_key

    snap = STATE.snapshot()
    try:
        result = unset_value(snap, service, env, parse_key(key), dry_run=dry_run)
    except DiagnosedFailure as exc:
        for d in exc.diagnostics:
            print_diagnostic(d)
        raise

    def text() -> None:
        verb = "would remove" if dry_run else "removed"
        now = "nothing" if result.new is None else scalar_text(result.new)
        out.print(f"{result.path}: {verb} {result.key}; {env} now inherits {now}")

    data = {"file": result.path, "key": result.key, "inherited": result.new}
    emit(fmt.value, {**data, "written": not dry_run}, text)


@new_app.command("service")
def new_service(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The new service's name.")],
    template: Annotated[
        str,
        typer.Option(
            "--template", "-t", metavar="T", help="A folder of templates/ in the repository."
        ),
    ],
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="A template parameter (repeatable); templates/T/template.yaml lists them.",
        ),
    ] = None,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Create service NAME from templates/TEMPLATE/ and register it in cfgctl.yaml (comments
    kept). Parameters are declared and typed in templates/TEMPLATE/template.yaml; everything
    is validated before the first file is written."""
    from cfgctl.editing.scaffold import new_service as create
    from cfgctl.editing.scaffold import parse_assignments

    created = create(STATE.snapshot(), name, template, parse_assignments(sets or []))

    def text() -> None:
        out.print(f"created service {created.name} (schema {created.schema}):")
        for path in created.files:
            out.print(f"  {path}")

    data = {"service": created.name, "schema": created.schema, "files": created.files}
    emit(fmt.value, data, text)
