"""`cfgctl history`: the commits that changed one effective value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cfgctl.cli.options import EnvOpt, FormatOpt, ServiceArg, TextOrJson
from cfgctl.cli.output import out
from cfgctl.cli.reporters import emit
from cfgctl.cli.state import STATE

if TYPE_CHECKING:
    from cfgctl.changes.history import KeyChange

__all__ = ["app", "history"]

app = typer.Typer(rich_markup_mode=None)


@app.command()
def history(
    service: ServiceArg,
    key: Annotated[str, typer.Argument(metavar="KEY", help="A dotted key path: db.pool_size.")],
    env: EnvOpt,
    rev: Annotated[
        str,
        typer.Option("--rev", metavar="REV", help="Start from this revision instead of HEAD."),
    ] = "HEAD",
    max_count: Annotated[
        int | None,
        typer.Option("--max", "-n", min=1, metavar="N", help="At most this many commits."),
    ] = None,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """List the commits that changed the effective value of KEY for SERVICE in ENV, newest
    first: commit, author, date, subject, and old -> new. Changes inherited from a parent
    environment or a _defaults.yaml count; commits that touch none of the files feeding the
    value are skipped. Secret values show as "secret changed"."""
    from cfgctl.changes.history import key_history
    from cfgctl.repo.keypath import parse_key

    path = parse_key(key)
    snap = STATE.snapshot(rev)
    changes = key_history(snap, service, env, path, max_count=max_count)

    def text() -> None:
        if not changes:
            out.print(f"no commit changed {service}@{env} {key} (from {snap.label})")
        for c in changes:
            out.print(f"{c.commit[:12]}  {c.date[:10]}  {c.author}  {c.subject}")
            out.print(f"    {key}: {_what(c)}")

    emit(fmt.value, [c.to_dict() for c in changes], text)


def _what(c: KeyChange) -> str:
    from cfgctl.changes.report import value_text

    if c.secret:
        return "secret " + ("added" if not c.old_set else "removed" if not c.new_set else "changed")
    old = value_text(c.old) if c.old_set else "(unset)"
    new = value_text(c.new) if c.new_set else "(unset)"
    return f"{old} -> {new}"
