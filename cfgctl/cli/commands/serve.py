"""`cfgctl serve`: the configuration server (API v1 over HTTP; docs/api.md)."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from cfgctl.cli.state import STATE

__all__ = ["app", "serve"]

app = typer.Typer(rich_markup_mode=None)
serve_app = typer.Typer(rich_markup_mode=None, invoke_without_command=True)
app.add_typer(serve_app, name="serve")


ListenOpt = Annotated[
    str,
    typer.Option(
        "--listen", metavar="HOST:PORT", help="The address to serve on; port 0 picks a free one."
    ),
]
BranchOpt = Annotated[
    str | None,
    typer.Option(
        "--branch",
        metavar="NAME",
        help="The branch to serve (default: the one the repository's HEAD names).",
    ),
]
WorkersOpt = Annotated[
    int,
    typer.Option(
        "--workers", min=1, max=64, metavar="N", help="Worker processes sharing the socket."
    ),
]
InsecureLocalOpt = Annotated[
    bool,
    typer.Option(
        "--insecure-local",
        help="Serve without authentication: anonymous, read-only (and agents' reports, "
        "from this machine), secrets always masked; loopback addresses only. Without it every "
        "request needs an API token.",
    ),
]
StateDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        metavar="DIR",
        help="Where the API tokens (tokens.db) and the audit log (audit.jsonl) are, as for"
        " `serve token` (default: $CFGCTL_STATE_DIR, else ~/.local/state/cfgctl/server).",
    ),
]
AccessLogOpt = Annotated[
    bool,
    typer.Option(
        "--access-log/--no-access-log",
        help="One line per request on stderr (method, path with credentials redacted, status)."
        " The audit log is kept either way.",
    ),
]
AddrFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--addr-file",
        metavar="FILE",
        help="Also write the bound base URL to FILE (for scripts; with port 0).",
    ),
]


@serve_app.callback()
def serve(
    ctx: typer.Context,
    listen: ListenOpt = "127.0.0.1:8080",
    branch: BranchOpt = None,
    workers: WorkersOpt = 1,
    insecure_local: InsecureLocalOpt = False,
    state_dir: StateDirOpt = None,
    addr_file: AddrFileOpt = None,
    access_log: AccessLogOpt = True,
) -> None:
    """Serve the configuration of the repository's branch over HTTP until SIGTERM: the API
    under /api/v1/ (services, environments, schemas, templates, and the effective configuration
    of each service in each environment, with provenance and long polls that follow commits),
    described at /api/v1/openapi.json; also the CLI's reports as JSON (diff, history, explain,
    validate, plan), agents' reports and the rollout of a commit (/api/v1/rollouts/COMMIT), and
    Spring Cloud Config's paths at the root (spring.config.import=configserver:URL reads
    /APPLICATION/PROFILE). Writes become change requests (/api/v1/changes): PATCH
    /api/v1/config/SERVICE/ENV (a JSON merge patch, If-Match required) or PUT
    /api/v1/secrets/SERVICE/ENV/KEY opens one; it is reviewed and merged under policy.yaml, and
    nothing else moves the branch (writes need a policy that allows them: not --insecure-local).
    It reads commits only, never the work tree, and notices new commits on the branch within a
    second. The repository is the root option -C (default:
    the current folder). The first line on stdout is `serving URL (branch NAME)`; logs go to
    stderr.

    Every request needs an API token (`Authorization: Bearer TOKEN`, made by `cfgctl serve
    token create` with the same --state-dir); what it may do is what rbac.yaml on the served
    branch grants the token's subject, capped by the token's role and scopes. Denials, refused
    tokens and every secret reveal are recorded in STATE_DIR/audit.jsonl (docs/security.md).
    --insecure-local serves anonymous reads on loopback instead.

    Example: cfgctl -C my-config serve --state-dir /var/lib/cfgctl --listen 0.0.0.0:8080
    """
    if ctx.invoked_subcommand is not None:
        return  # `serve token ...`
    from cfgctl.repo.fsutil import atomic_write
    from cfgctl.server.runner import run_server
    from cfgctl.server.settings import ServerSettings, parse_listen
    from cfgctl.server.statedir import state_dir as resolve_state_dir

    host, port = parse_listen(listen)
    settings = ServerSettings(
        repo=STATE.start(),
        branch=branch,
        insecure_local=insecure_local,
        state_dir=None if insecure_local else resolve_state_dir(state_dir).absolute(),
    )

    def announce(url: str, served_branch: str) -> None:
        sys.stdout.write(f"serving {url}/api/v1/ (branch {served_branch})\n")
        sys.stdout.flush()
        if addr_file is not None:
            atomic_write(addr_file, (url + "\n").encode())
        # Bound, uvicorn next: it shuts down on SIGTERM, then raises the signal again for the
        # handler it replaced; with this one that ends in exit 0 (as `agent run` does), not in
        # death by the signal. A SIGTERM before uvicorn takes over ends the command as cleanly.
        signal.signal(signal.SIGTERM, _exit_cleanly)

    run_server(settings, host, port, workers=workers, on_bound=announce, access_log=access_log)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _mount_tokens() -> None:
    from cfgctl.cli.commands.serve_tokens import token_app

    serve_app.add_typer(token_app, name="token")


_mount_tokens()
