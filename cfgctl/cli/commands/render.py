"""`cfgctl render|get|explain`: the effective configuration, one value, where a value comes from."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cfgctl.cli.options import EnvOpt, FormatOpt, KeyArg, Rev, ServiceArg, TextOrJson
from cfgctl.cli.output import out, print_diagnostic, scalar_text
from cfgctl.cli.reporters import emit
from cfgctl.cli.state import STATE
from cfgctl.errors import CheckFailed

if TYPE_CHECKING:
    from cfgctl.changes.explain import Explanation

__all__ = ["app", "explain", "get", "render"]

app = typer.Typer(rich_markup_mode=None)


class RenderFormat(StrEnum):
    """Every format the agent writes (cfgctl.repo.formats.FORMATS; a test holds them equal)."""

    yaml = "yaml"
    json = "json"
    env = "env"
    toml = "toml"


@app.command()
def render(
    service: ServiceArg,
    env: EnvOpt,
    rev: Rev = None,
    fmt: Annotated[
        RenderFormat, typer.Option("--format", "-f", help="yaml, json, env (KEY=value) or toml.")
    ] = RenderFormat.yaml,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show secret values instead of ***.")
    ] = False,
    no_validate: Annotated[
        bool,
        typer.Option("--no-validate", help="Print even when the result breaks its schema."),
    ] = False,
) -> None:
    """Print the effective configuration of SERVICE in ENV: every layer of the inheritance
    chain merged (_defaults.yaml, SERVICE.yaml, SERVICE.secrets.yaml of each environment,
    root first). Secret values are shown as *** unless --reveal. Exit 2 when an input is
    broken, 1 (nothing printed on stdout) when the result breaks its schema."""
    from cfgctl.checks.render import render_checked
    from cfgctl.repo.formats import serialize
    from cfgctl.repo.masking import masked

    checked = render_checked(
        STATE.snapshot(rev), service, env, reveal=reveal, validate=not no_validate
    )
    if checked.problems:
        for d in checked.problems:
            print_diagnostic(d)
        raise CheckFailed(
            f"{service}@{env} fails validation; nothing rendered",
            hint="fix the values above, or pass --no-validate to see the result anyway",
        )
    sys.stdout.write(serialize(masked(checked.rendered, reveal), fmt.value).decode())


@app.command()
def get(
    service: ServiceArg,
    key: KeyArg,
    env: EnvOpt,
    rev: Rev = None,
    reveal: Annotated[bool, typer.Option("--reveal", help="Show a secret value.")] = False,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Print the effective value of KEY for SERVICE in ENV (a mapping or list as YAML)."""
    from cfgctl.repo.keypath import parse_key
    from cfgctl.repo.masking import masked_value

    rendered = STATE.snapshot(rev).render(service, env)
    value = masked_value(rendered, parse_key(key), reveal)
    emit(fmt.value, value, lambda: sys.stdout.write(scalar_text(value) + "\n"))


@app.command()
def explain(
    service: ServiceArg,
    key: KeyArg,
    env: EnvOpt,
    rev: Rev = None,
    fmt: FormatOpt = TextOrJson.text,
    blame: Annotated[
        bool,
        typer.Option("--blame", help="Add the commit and author that last changed each line."),
    ] = False,
) -> None:
    """Show the effective value of KEY and every layer that sets it, in merge order, each with
    its file:line; the last one wins. JSON: a list of {env, file, line, value, wins} (with
    --blame also commit, author, date; null for a line not committed yet)."""
    from cfgctl.changes.explain import explain_key

    explanation = explain_key(STATE.snapshot(rev), service, env, key, blame=blame)
    emit(fmt.value, explanation.to_list(), lambda: _print_explanation(explanation))


def _row_mark(row: dict[str, Any]) -> str:
    if row.get("merged"):
        keys = row["keys"]
        return f"merged, sets {', '.join(keys)}" if keys else "merged, every key set later"
    return "wins" if row["wins"] else "overridden"


def _print_explanation(explanation: Explanation) -> None:
    e = explanation
    out.print(f"{e.service}@{e.env} {e.key} = {scalar_text(e.value)}")
    if e.merged:
        out.print(
            "  a mapping: the layers below merge key by key; each key from the last that sets it"
        )
    for row in e.rows:
        mark = _row_mark(row)
        text = scalar_text(row["value"]).replace("\n", " ")
        who = ""
        if e.blamed:
            who = (
                f"  {row['commit'][:12]} {row['author']} {row['date'][:10]}"
                if row["commit"]
                else "  (not committed yet)"
            )
        where = f"{row['file']}:{row['line']}:{row['column']}"
        out.print(f"  {where}: [{row['env']}] {text}  ({mark}){who}")
