"""`cfgctl audit verify`: check the hash chain of the server's audit log.

`app` holds the `audit` group, for the command table (`"audit": Entry(_C + "audit", ...)`);
nothing registers it yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cfgctl.cli.options import TextOrJson
from cfgctl.cli.output import err, out
from cfgctl.cli.reporters import emit

__all__ = ["app", "audit_app"]

app = typer.Typer(rich_markup_mode=None)
audit_app = typer.Typer(
    help="The audit log of `cfgctl serve`: one JSON line per write, reveal, denial and token "
    "event, each carrying the SHA-256 of the line before it (docs/security.md).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify_cmd(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="The audit log (STATE_DIR/audit.jsonl).")
    ],
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            metavar="SEQ:HASH",
            help="A head printed by an earlier verify and kept elsewhere: the log must still"
            " hold that line as it was (catches lines cut from the end, and a rewritten chain).",
        ),
    ] = None,
    fmt: Annotated[TextOrJson, typer.Option("--format", "-f", help="text or json.")] = (
        TextOrJson.text
    ),
) -> None:
    """Verify an audit log: every line whole, in sequence, and chained to the one before.
    Exit 0 when intact (its head, SEQ:HASH, printed: keep it to pass as --anchor later), 1 when
    tampered with (PATH:LINE and why: a line edited, removed, inserted, reordered or cut off), 2
    when it cannot be read.

    Example: cfgctl audit verify /var/lib/cfgctl/audit.jsonl --anchor 1041:9f2c...
    """
    from cfgctl.server.auditlog import verify

    result = verify(path, anchor=anchor)

    def text() -> None:
        if result.ok:
            out.print(f"{path}: ok, {result.lines} lines, head {result.head}")
        else:
            err.print(f"{path}:{result.first_bad_line}: error: {result.reason}", style="red")
            err.print(f"  the chain is intact up to line {result.lines} (head {result.head})")

    emit(fmt.value, {"path": str(path), **result.to_dict()}, text)
    raise typer.Exit(0 if result.ok else 1)
