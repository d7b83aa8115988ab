"""`cfgctl schema list|show|generate|diff`: the repository's JSON Schemas, schemas from models,
and what changed between two versions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cfgctl.cli.options import FormatOpt, Rev, TextOrJson
from cfgctl.cli.output import err, out
from cfgctl.cli.reporters import emit
from cfgctl.cli.state import STATE

if TYPE_CHECKING:
    from cfgctl.operate.schemadiff import SchemaDiff

__all__ = ["app", "schema_diff", "schema_generate", "schema_list", "schema_show"]

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
            "(template.yaml), policy (policy.yaml), agent (agent.yaml), analytics"
            " (analytics.yaml), migration (schemas/NAME.vN.migration.yaml).",
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


@schema_app.command("diff")
def schema_diff(
    old: Annotated[str, typer.Argument(metavar="NAME@N", help="The older version.")],
    new: Annotated[
        str, typer.Argument(metavar="NAME@M", help="The newer version (NAME: the newest).")
    ],
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Write the migration skeleton to schemas/NAME.vM.migration.yaml (never over "
            "an existing file; M must be N+1).",
        ),
    ] = False,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="Write the skeleton to FILE instead (implies --write).",
            dir_okay=False,
        ),
    ] = None,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """List what changed between two versions of a schema and draft the migration file.

    Reported per dotted key: added, removed, type and constraint changes (enum, minimum,
    maximum, pattern, format, required, default, ...). A property removed and one added with
    the same type and constraints becomes a rename (or a move, to another parent) in the
    skeleton; two candidates of one shape are listed as comments, not guessed. Removed keys
    become remove, added required keys with a default become default, changed scalar types
    become convert. The skeleton passes the migration file's schema; review it before
    `cfgctl migrate`. Exit 2 for an unknown schema or version, or NAME@N not older than NAME@M.

    Example: cfgctl schema diff web-service@1 web-service@2 --write
    """
    from cfgctl.operate.schemadiff import diff_schemas, write_skeleton

    snap = STATE.snapshot()
    result = diff_schemas(snap, old, new)
    written = None
    if write or out_file is not None:
        written = write_skeleton(snap, result, out_file)
    emit(
        fmt.value,
        {**result.to_dict(), "written": str(written) if written else None},
        lambda: _print_diff(result, written is None),
    )
    if written is not None:
        err.print(f"wrote {written}")


def _print_diff(result: SchemaDiff, show_skeleton: bool) -> None:
    marks = {"added": "+", "removed": "-", "renamed": ">", "moved": ">"}
    out.print(f"{result.source} -> {result.target} ({result.source.path} -> {result.target.path})")
    for c in result.changes:
        mark = marks.get(c.kind, "~")
        if c.kind in ("renamed", "moved"):
            out.print(f"  {mark} {c.kind} {c.path} -> {c.after}")
        elif c.kind in ("added", "removed"):
            out.print(f"  {mark} {c.kind} {c.path} ({c.detail})")
        else:
            before, after = json.dumps(c.before), json.dumps(c.after)
            out.print(f"  {mark} {c.path}: {c.detail} {before} -> {after}")
    count = len(result.changes)
    out.print(f"{count} change{'s' if count != 1 else ''}" if count else "no changes")
    if show_skeleton:
        out.print(f"migration skeleton (--write puts it in {result.migration_file}):")
        out.print(result.skeleton.rstrip("\n"))
