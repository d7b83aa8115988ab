"""`cfgctl serve token create|list|revoke`: the API tokens of the configuration server.

`token_app` is a standalone typer group, meant to be mounted by the `serve` group as
`serve_app.add_typer(token_app, name="token")`; it registers nothing in the root CLI itself.
A CfgctlError raised here reaches the root's error boundary once mounted.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cfgctl.cli.options import TextOrJson
from cfgctl.cli.output import err, out
from cfgctl.cli.reporters import emit

__all__ = ["token_app"]

token_app = typer.Typer(
    help="API tokens of `cfgctl serve`: made once, shown once, stored only as salted hashes in "
    "STATE_DIR/tokens.db.\n\n"
    "A token acts as its subject: it may do what rbac.yaml grants that subject, and never more "
    "than its own role allows on its own scopes (docs/security.md).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

StateDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        metavar="DIR",
        help="The server's state directory (default: $CFGCTL_STATE_DIR, else"
        " ~/.local/state/cfgctl/server).",
    ),
]
FormatOpt = Annotated[TextOrJson, typer.Option("--format", "-f", help="text or json.")]


@token_app.command("create")
def create_cmd(
    name: Annotated[
        str,
        typer.Option(
            "--name",
            "--subject",
            metavar="SUBJECT",
            help="Who the token acts as: the subject rbac.yaml grants rights to (ci-bot).",
        ),
    ],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            metavar="ROLE",
            help="The most the token may do: viewer, agent (read and report), editor, approver"
            " or admin.",
        ),
    ],
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope",
            metavar="SERVICE@ENV",
            help="Where it may act, a glob (payments@staging, *@dev*, * for all); repeatable.",
        ),
    ],
    expires: Annotated[
        str,
        typer.Option(
            "--expires", metavar="DURATION", help="How long it lives (30d, 12h), or never."
        ),
    ] = "30d",
    state_dir: StateDirOpt = None,
) -> None:
    """Create an API token and print it once, on stdout alone: store it at once (a secret
    manager, a CI secret); it cannot be shown again. Its id, subject, role and expiry go to
    stderr. Send it as `Authorization: Bearer TOKEN`. Recorded in STATE_DIR/audit.jsonl (never
    the secret); when that record cannot be written the token is revoked at once (exit 3).

    Example: cfgctl serve token create --name ci-bot --role editor --scope 'payments@staging'
    --expires 30d
    """
    from cfgctl.repo.timespec import parse_duration
    from cfgctl.server.auditlog import AuditUnavailable
    from cfgctl.server.rbac import ROLE_ACTIONS
    from cfgctl.server.statedir import state_dir as resolve
    from cfgctl.server.tokens import TokenStore

    if role not in ROLE_ACTIONS:
        from cfgctl.errors import InputError

        raise InputError(f"no role {role!r}", hint="the roles are " + ", ".join(ROLE_ACTIONS))
    lifetime = None if expires == "never" else parse_duration(expires)
    folder = resolve(state_dir)
    store = TokenStore.open(folder)
    token_id, token = store.create(name, role, scope, lifetime)
    info = store.get(token_id)
    until = info.to_dict()["expires"] if info is not None else None
    try:
        _audit(folder, "token.create", token_id, name=name, role=role, scopes=scope, expires=until)
    except AuditUnavailable:
        store.revoke(token_id)  # an unaudited token must not work (Vault's rule)
        raise
    err.print(
        f"token {token_id} for {name}: role {role} on {', '.join(scope)}, expires"
        f" {until or 'never'}; shown once, store it now"
    )
    sys.stdout.write(token + "\n")


@token_app.command("list")
def list_cmd(state_dir: StateDirOpt = None, fmt: FormatOpt = TextOrJson.text) -> None:
    """List the tokens (never their secrets): id, subject, role, scopes, created, expires,
    revoked, last used (to the minute).

    Example: cfgctl serve token list --format json
    """
    from cfgctl.server.statedir import state_dir as resolve
    from cfgctl.server.tokens import TokenStore

    tokens = [t.to_dict() for t in TokenStore.open(resolve(state_dir)).list()]

    def text() -> None:
        if not tokens:
            out.print("no tokens: cfgctl serve token create")
        for t in tokens:
            state = (
                f"revoked {t['revoked']}" if t["revoked"] else f"expires {t['expires'] or 'never'}"
            )
            used = f"last used {t['last_used']}" if t["last_used"] else "never used"
            scopes = ",".join(t["scopes"])
            out.print(f"{t['id']}  {t['subject']}  {t['role']}  {scopes}  {state}  {used}")

    emit(fmt.value, {"tokens": tokens}, text)


@token_app.command("revoke")
def revoke_cmd(
    token_id: Annotated[str, typer.Argument(metavar="ID", help="The token's id (token list).")],
    state_dir: StateDirOpt = None,
) -> None:
    """Revoke a token: every server process refuses it from its next request on. Revoking a
    revoked token again changes nothing. Recorded in STATE_DIR/audit.jsonl (the revocation
    stands even when that record cannot be written: exit 3 then).

    Example: cfgctl serve token revoke 3f9a0c12b7e4
    """
    from cfgctl.server.statedir import state_dir as resolve
    from cfgctl.server.tokens import TokenStore

    folder = resolve(state_dir)
    info = TokenStore.open(folder).revoke(token_id)
    _audit(folder, "token.revoke", info.id, name=info.subject)
    out.print(f"token {info.id} ({info.subject}) revoked {info.to_dict()['revoked']}")


def _audit(folder: Path, action: str, token_id: str, **detail: object) -> None:
    """A token event in the server's audit log, by the local user who ran the command."""
    import getpass

    from cfgctl.server.auditlog import AUDIT_FILE, AuditLog

    AuditLog(folder / AUDIT_FILE).append(
        f"local:{getpass.getuser()}", action, f"token:{token_id}", "ok", detail=detail
    )
