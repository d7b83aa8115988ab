"""`cfgctl schema list|show|generate`: the repository's JSON Schemas, and schemas from models."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from cfgctl.cli.options import FormatOpt, Rev, TextOrJson
from cfgctl.cli.output import err, out
from cfgctl.cli.reporters import emit
from cfgctl.cli.state import STATE

__all__ = ["app", "schema_generate", "schema_list", "schema_show"]

app = typer.Typer(rich_markup_mode=None)
schema_app = typer.Typer(help="The JSON Schemas of the repository.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")


@schema_app.command("list")
def schema_list(rev: Rev = None, fmt: FormatOpt = TextOrJson.text) -> None:
    """List every schema of schemas/ with its versions and the services that use it."""
    from cfgctl.repo.schema_usage import schema_usage

    rows = schema_usage(STATE.snapshot(rev))
    emit(fmt.value, rows, lambda: _print_rows(rows))


def _print_rows(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        out.print(f"{row['name']}  versions {', '.join(map(str, row['versions']))}")
        for v, path in zip(row["versions"], row["files"], strict=True):
            used = ", ".join(row["services"][str(v)]) or "-"
            out.print(f"  @{v}  {path}  used by: {used}")


@schema_app.command("show")
def schema_show(
    spec: Annotated[
        str,
        typer.Argument(metavar="NAME[@N]", help="NAME for the newest version, NAME@N for one."),
    ],
    rev: Rev = None,
    builtin: Annotated[
        bool,
        typer.Option(
            "--builtin",
            help="A schema of cfgctl's own files instead: cfgctl (cfgctl.yaml), template "
            "(template.yaml), policy (policy.yaml), agent (agent.yaml), migration"
            " (schemas/NAME.vN.migration.yaml).",
        ),
    ] = False,
) -> None:
    """Print a schema (as JSON) by name, the newest version unless NAME@N."""
    if builtin:
        from cfgctl.repo.schema_usage import builtin_schema_text

        sys.stdout.write(builtin_schema_text(spec))
        return
    snap = STATE.snapshot(rev)
    ref = snap.schemas.resolve(spec)
    sys.stdout.write(json.dumps(snap.schemas.document(ref.path), indent=2) + "\n")
    err.print(f"{ref}: {ref.path}")


@schema_app.command("generate")
def schema_generate(
    spec: Annotated[
        str,
        typer.Argument(
            metavar="MODULE:CLASS",
            help="The service's config model, a dataclass or pydantic BaseModel: "
            "payments.settings:Settings. MODULE is imported with the current folder on "
            "sys.path.",
        ),
    ],
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="Write the schema to FILE (atomically) instead of stdout.",
            dir_okay=False,
        ),
    ] = None,
    title: Annotated[
        str | None,
        typer.Option("--title", metavar="T", help="The schema's title (default: CLASS)."),
    ] = None,
) -> None:
    """Write the JSON Schema (draft 2020-12) of the model a service loads its config into
    with cfgctl.sdk, so that the repository validates exactly what the code reads.

    Kept: defaults, descriptions (Field(description=...), model docstrings), constraints
    (Annotated[int, Field(ge=1, le=500)], annotated_types), Literal as enum, nested models
    as $defs. additionalProperties is false where the model forbids extra keys
    (extra="forbid"). Example:
    `cfgctl schema generate payments.settings:Settings -o schemas/payments.schema.json`
    """
    from cfgctl.repo.fsutil import atomic_write
    from cfgctl.sdk.schema import import_model, model_schema

    text = json.dumps(model_schema(import_model(spec), title=title), indent=2) + "\n"
    if out_file is None:
        sys.stdout.write(text)
        return
    atomic_write(out_file, text.encode())
    err.print(f"wrote {out_file}")
