"""`cfgctl diff`: how the effective configuration changes between revisions or environments."""

from __future__ import annotations

from typing import Annotated

import typer

from cfgctl.cli.options import MarkdownFormat
from cfgctl.cli.reporters import REPORTER_BY_NAME
from cfgctl.cli.state import STATE
from cfgctl.errors import InputError

__all__ = ["app", "diff"]

app = typer.Typer(rich_markup_mode=None)


BaseArg = Annotated[
    str | None,
    typer.Argument(
        metavar="BASE",
        help="The old side: a revision (default HEAD); A..B compares A with B; A...B "
        "compares the merge base of A and B with B, as a pull request does.",
    ),
]
HeadArg = Annotated[
    str | None,
    typer.Argument(metavar="HEAD", help="The new side: a revision (default: the work tree)."),
]
EnvsOpt = Annotated[
    list[str] | None,
    typer.Option("--env", "-e", metavar="ENV", help="Only these environments (globs)."),
]
ServicesOpt = Annotated[
    list[str] | None,
    typer.Option("--service", "-s", metavar="SERVICE", help="Only these services (globs)."),
]
AgainstEnvOpt = Annotated[
    str | None,
    typer.Option(
        "--against-env",
        metavar="ENV",
        help="Compare the environment of --env with this one at one revision (--rev, "
        "default the work tree); the arguments are then SERVICEs (default: all).",
    ),
]
AgainstRevOpt = Annotated[
    str | None,
    typer.Option("--rev", metavar="REV", help="With --against-env: the revision to read."),
]
DiffFormatOpt = Annotated[
    MarkdownFormat, typer.Option("--format", "-f", help="text, markdown (a PR comment), json.")
]
ExitCodeOpt = Annotated[
    bool, typer.Option("--exit-code", help="Exit 1 when there are differences.")
]


@app.command()
def diff(
    base: BaseArg = None,
    head: HeadArg = None,
    env: EnvsOpt = None,
    service: ServicesOpt = None,
    against_env: AgainstEnvOpt = None,
    rev: AgainstRevOpt = None,
    fmt: DiffFormatOpt = MarkdownFormat.text,
    exit_code: ExitCodeOpt = False,
) -> None:
    """Show how the effective configuration of every service in every environment changes
    between two revisions: added, removed and changed keys as dotted paths, old -> new,
    inherited effects included (an edit of config/base/_defaults.yaml shows in every service
    of every environment inheriting base). Secret values are never shown.

    Examples: `cfgctl diff` (HEAD against the work tree), `cfgctl diff HEAD~1 HEAD`,
    `cfgctl diff main...feature --env prod`, `cfgctl diff --env staging --against-env prod
    payments` (two environments of one revision).
    """
    from cfgctl.changes.diff import diff_envs, diff_snapshots
    from cfgctl.changes.tree import open_range

    if against_env is not None:
        if not env or len(env) != 1:
            raise InputError(
                "--against-env needs exactly one --env to compare with",
                hint=f"e.g. cfgctl diff --env staging --against-env {against_env}",
            )
        names = [n for n in (base, head) if n is not None] + list(service or [])
        result = diff_envs(STATE.snapshot(rev), env[0], against_env, names or None)
    else:
        old, new = open_range(STATE.start(), base, head, use_cache=STATE.use_cache)
        STATE.opened += [old, new]
        result = diff_snapshots(old, new, envs=env, services=service)
    REPORTER_BY_NAME[fmt.value]().diff(result)
    raise typer.Exit(1 if exit_code and result.changed else 0)
