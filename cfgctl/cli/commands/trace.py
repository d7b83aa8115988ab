"""`cfgctl trace COMMIT`: the timeline of a commit, from the span files of one or more hosts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cfgctl.cli.options import TextOrJson
from cfgctl.cli.output import err, out
from cfgctl.cli.reporters import emit

__all__ = ["app", "trace"]

app = typer.Typer(rich_markup_mode=None)


@app.command()
def trace(
    commit: Annotated[
        str, typer.Argument(metavar="COMMIT", help="The commit id, or 4+ of its first hex digits.")
    ],
    dirs: Annotated[
        list[Path] | None,
        typer.Option(
            "--dir",
            "-d",
            metavar="DIR",
            help="A trace folder or span file (repeatable); folders are searched recursively, "
            "so a folder holding several hosts' trace folders works. Default: this user's "
            "(CFGCTL_TRACE_DIR, else $XDG_STATE_HOME/cfgctl/traces, else "
            "~/.local/state/cfgctl/traces).",
        ),
    ] = None,
    fmt: Annotated[TextOrJson, typer.Option("--format", "-f", help="text or json.")] = (
        TextOrJson.text
    ),
) -> None:
    """Print the timeline of COMMIT from span files: the commit, its publish, each target's
    apply, write, reload, health and rollback, and the service's reload, grouped by host and
    service, each with its start offset and duration.

    Exit 0 when spans of the commit were found, 1 when none were (the message says where it
    looked), 2 for a bad commit id or a --dir that does not exist. An unreadable file or a
    malformed line is skipped with a warning. An agent writes its spans to
    STATE_DIR/traces/ (docs/agent.md, "Traces").

    Example: cfgctl trace 1a2b3c4d --dir /var/lib/cfgctl-agent/traces --dir ./collected
    """
    from cfgctl.fleet.timeline import render_text, timeline, to_dict
    from cfgctl.telemetry import default_trace_dir

    found = timeline(dirs or [default_trace_dir()], commit, required=bool(dirs))
    for warning in found.warnings:
        err.print(f"warning: {warning}")
    emit(fmt.value, to_dict(found), lambda: out.print(render_text(found)))
