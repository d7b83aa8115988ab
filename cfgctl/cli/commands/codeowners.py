"""`cfgctl codeowners`: .github/CODEOWNERS from the owners in cfgctl.yaml."""

from __future__ import annotations

from typing import Annotated

import typer

from cfgctl.cli.output import err, out
from cfgctl.cli.state import STATE

__all__ = ["app", "codeowners"]

app = typer.Typer(rich_markup_mode=None)


@app.command()
def codeowners(
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 when the file is out of date."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a CODEOWNERS that cfgctl did not generate."),
    ] = False,
) -> None:
    """Write .github/CODEOWNERS from the owners in cfgctl.yaml (for teams that also use
    GitHub's code-owner reviews): each owned service's config and secrets files, in every
    environment. `cfgctl validate` warns when the file is out of date.

    A CODEOWNERS written by hand (without cfgctl's header) is not replaced unless --force.

    Example: cfgctl codeowners && git add .github/CODEOWNERS
    """
    from cfgctl.checks.codeowners import sync_codeowners

    result = sync_codeowners(STATE.snapshot(), check=check, force=force)
    if result.state == "out of date":
        err.print(f"{result.path} is out of date: run `cfgctl codeowners`", style="red")
        raise typer.Exit(1)
    out.print(
        f"wrote {result.path}" if result.state == "written" else f"{result.path} is up to date"
    )
