"""Commands for reviewing changes: diff and history."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer

from cfgctl.cli.output import TextOrJson, out, print_json
from cfgctl.cli.state import STATE
from cfgctl.errors import InputError

__all__ = ["register"]


class DiffFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


def _shown(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def register(app: typer.Typer) -> None:
    @app.command()
    def diff(
        base: Annotated[
            str | None,
            typer.Argument(
                metavar="BASE",
                help="The old side: a revision (default HEAD); A..B compares A with B; A...B "
                "compares the merge base of A and B with B, as a pull request does.",
            ),
        ] = None,
        head: Annotated[
            str | None,
            typer.Argument(
                metavar="HEAD", help="The new side: a revision (default: the work tree)."
            ),
        ] = None,
        env: Annotated[
            list[str] | None,
            typer.Option("--env", "-e", metavar="ENV", help="Only these environments (globs)."),
        ] = None,
        service: Annotated[
            list[str] | None,
            typer.Option("--service", "-s", metavar="SERVICE", help="Only these services (globs)."),
        ] = None,
        against_env: Annotated[
            str | None,
            typer.Option(
                "--against-env",
                metavar="ENV",
                help="Compare the environment of --env with this one at one revision (--rev, "
                "default the work tree); the arguments are then SERVICEs (default: all).",
            ),
        ] = None,
        rev: Annotated[
            str | None,
            typer.Option("--rev", metavar="REV", help="With --against-env: the revision to read."),
        ] = None,
        fmt: Annotated[
            DiffFormat, typer.Option("--format", "-f", help="text, markdown (a PR comment), json.")
        ] = DiffFormat.text,
        exit_code: Annotated[
            bool, typer.Option("--exit-code", help="Exit 1 when there are differences.")
        ] = False,
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
        from cfgctl.changes.report import markdown, text_lines
        from cfgctl.changes.tree import open_range

        if against_env is not None:
            if not env or len(env) != 1:
                raise InputError(
                    "--against-env needs exactly one --env to compare with",
                    hint="cfgctl diff --env staging --against-env prod [--service S]",
                )
            names = [n for n in (base, head) if n is not None] + list(service or [])
            snap = STATE.snapshot(rev)
            result = diff_envs(snap, env[0], against_env, names or None)
        else:
            old, new = open_range(STATE.start(), base, head, use_cache=STATE.use_cache)
            STATE.opened += [old, new]
            result = diff_snapshots(old, new, envs=env, services=service)
        if fmt is DiffFormat.json:
            print_json(result.to_list())
        elif fmt is DiffFormat.markdown:
            sys.stdout.write(markdown(result))
        else:
            for line in text_lines(result):
                style = None
                stripped = line.lstrip()
                if stripped[:2] in ("+ ", "- ", "~ "):
                    style = {"+": "green", "-": "red", "~": "yellow"}[stripped[0]]
                out.print(line, style=style)
        raise typer.Exit(1 if exit_code and result.changed else 0)

    @app.command()
    def history(
        service: Annotated[
            str, typer.Argument(metavar="SERVICE", help="The service, as named in cfgctl.yaml.")
        ],
        key: Annotated[str, typer.Argument(metavar="KEY", help="A dotted key path: db.pool_size.")],
        env: Annotated[str, typer.Option("--env", "-e", metavar="ENV", help="The environment.")],
        rev: Annotated[
            str,
            typer.Option("--rev", metavar="REV", help="Start from this revision instead of HEAD."),
        ] = "HEAD",
        max_count: Annotated[
            int | None,
            typer.Option("--max", "-n", min=1, metavar="N", help="At most this many commits."),
        ] = None,
        fmt: Annotated[TextOrJson, typer.Option("--format", "-f")] = TextOrJson.text,
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
        if fmt is TextOrJson.json:
            print_json([c.to_dict() for c in changes])
            return
        if not changes:
            out.print(f"no commit changed {service}@{env} {key} (from {snap.label})")
            return
        for c in changes:
            if c.secret:
                what = "secret " + (
                    "added" if not c.old_set else "removed" if not c.new_set else "changed"
                )
            else:
                old = _shown(c.old) if c.old_set else "(unset)"
                new = _shown(c.new) if c.new_set else "(unset)"
                what = f"{old} -> {new}"
            out.print(f"{c.commit[:12]}  {c.date[:10]}  {c.author}  {c.subject}")
            out.print(f"    {key}: {what}")
