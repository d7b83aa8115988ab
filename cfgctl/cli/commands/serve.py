"""`cfgctl serve`: the configuration server (API v1 over HTTP; docs/api.md)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
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
        help="The branch to serve (default: the one the repository's HEAD names; required"
        " with --remote).",
    ),
]
RemoteOpt = Annotated[
    str | None,
    typer.Option(
        "--remote",
        metavar="URL",
        help="Serve a clone of this Git repository (a path, file://, https:// or ssh:// URL)"
        " instead of -C: kept bare under the state directory (STATE_DIR/remotes/), reused at"
        " restart, fetched every --poll and at once on a signed webhook. Change requests and"
        " merges are pushed to it.",
    ),
]
PollOpt = Annotated[
    str,
    typer.Option(
        "--poll",
        metavar="DURATION",
        help="With --remote: how often to fetch it (30s, 5m; at least 1s).",
    ),
]
WebhookOpt = Annotated[
    str | None,
    typer.Option(
        "--webhook-secret-env",
        metavar="VAR",
        help="With --remote: accept GitHub push webhooks at POST /api/v1/hooks/git, signed"
        " (X-Hub-Signature-256) with the secret in environment variable VAR; a push to the"
        " branch is fetched at once. Unsigned or forged ones are refused (401) and audited.",
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
        "request needs an API token (or an OIDC token, with --oidc-issuer).",
    ),
]
StateDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        metavar="DIR",
        help="Where the API tokens (tokens.db) and the audit log (audit.jsonl) are, as for"
        " `serve token`, and with --remote its clone (remotes/) (default: $CFGCTL_STATE_DIR,"
        " else ~/.local/state/cfgctl/server).",
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
OidcIssuerOpt = Annotated[
    str | None,
    typer.Option(
        "--oidc-issuer",
        metavar="URL",
        help="Also accept OIDC bearer tokens (JWTs) of this issuer, exactly as their iss claim"
        " names it (https; http on loopback only); its keys come from"
        " URL/.well-known/openid-configuration. Needs --oidc-audience.",
    ),
]
OidcAudienceOpt = Annotated[
    str | None,
    typer.Option(
        "--oidc-audience",
        metavar="AUD",
        help="The audience (aud claim) an OIDC token must be for: the client id the issuer"
        " knows cfgctl by.",
    ),
]
OidcSubjectOpt = Annotated[
    str,
    typer.Option(
        "--oidc-subject-claim",
        metavar="CLAIM",
        help="The claim naming the login: rbac.yaml grants to oidc:VALUE.",
    ),
]
OidcGroupsOpt = Annotated[
    str,
    typer.Option(
        "--oidc-groups-claim",
        metavar="CLAIM",
        help="The claim listing the login's groups (a.b for a nested one): rbac.yaml's"
        " group:NAME grants reach them; '' for none.",
    ),
]
AgentAuditOpt = Annotated[
    Path | None,
    typer.Option(
        "--agent-audit",
        metavar="PATH",
        help="A sync agent's state_dir (or its audit.jsonl): the deliveries that"
        " /api/v1/analytics/SERVICE/ENV marks on the metrics and judges (docs/analytics.md).",
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
    remote: RemoteOpt = None,
    poll: PollOpt = "30s",
    webhook_secret_env: WebhookOpt = None,
    workers: WorkersOpt = 1,
    insecure_local: InsecureLocalOpt = False,
    state_dir: StateDirOpt = None,
    oidc_issuer: OidcIssuerOpt = None,
    oidc_audience: OidcAudienceOpt = None,
    oidc_subject_claim: OidcSubjectOpt = "sub",
    oidc_groups_claim: OidcGroupsOpt = "groups",
    agent_audit: AgentAuditOpt = None,
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

    With --remote URL --branch NAME it serves a clone of a remote instead (never with -C):
    fetched every --poll and at once on a webhook; an unreachable remote at start is exit 3,
    later the last fetched commit is still served and /api/v1/status says since when it
    cannot be fetched. Change requests (their commit and refs/cfgctl/changes/N) are pushed to
    the remote as they are opened and reviewed; a merge pushes the branch as a fast-forward
    only, and a remote that moved meanwhile answers 409 (fetched at once: merge again).

    Every request needs an API token (`Authorization: Bearer TOKEN`, made by `cfgctl serve
    token create` with the same --state-dir); what it may do is what rbac.yaml on the served
    branch grants the token's subject, capped by the token's role and scopes. With
    --oidc-issuer and --oidc-audience, a bearer that is not an API token is taken as a JWT of
    that issuer (signed with an asymmetric key it publishes; iss, aud and exp checked): it acts
    as oidc:SUBJECT, with the groups its groups claim names, and gets what rbac.yaml grants
    those. Denials, refused tokens and every secret reveal are recorded in
    STATE_DIR/audit.jsonl (docs/security.md). --insecure-local serves anonymous reads on
    loopback instead.

    Example: cfgctl -C my-config serve --state-dir /var/lib/cfgctl --listen 0.0.0.0:8080
    --oidc-issuer https://keycloak.example.com/realms/acme --oidc-audience cfgctl

    Example: cfgctl serve --remote https://git.example/ops/config.git --branch main --poll 1m
    --webhook-secret-env CFGCTL_WEBHOOK_SECRET --state-dir /var/lib/cfgctl
    """
    if ctx.invoked_subcommand is not None:
        return  # `serve token ...`
    from cfgctl.server.runner import run_server
    from cfgctl.server.settings import ServerSettings, parse_listen
    from cfgctl.server.statedir import state_dir as resolve_state_dir

    host, port = parse_listen(listen)
    fetch_interval = _remote_options(remote, branch, poll, webhook_secret_env)
    keep_state = not insecure_local or remote is not None  # the clone lives there
    settings = ServerSettings(
        repo=STATE.start(),
        branch=branch,
        insecure_local=insecure_local,
        state_dir=resolve_state_dir(state_dir).absolute() if keep_state else None,
        remote=remote,
        fetch_interval=fetch_interval,
        webhook_secret_env=webhook_secret_env,
        oidc_issuer=oidc_issuer,
        oidc_audience=oidc_audience,
        oidc_subject_claim=oidc_subject_claim,
        oidc_groups_claim=oidc_groups_claim,
        agent_audit=None if agent_audit is None else agent_audit.absolute(),
    )
    run_server(
        settings, host, port, workers=workers, on_bound=_announcer(addr_file), access_log=access_log
    )


def _announcer(addr_file: Path | None) -> Callable[[str, str], None]:
    """What says where the server listens, once bound."""
    from cfgctl.repo.fsutil import atomic_write

    def announce(url: str, served_branch: str) -> None:
        sys.stdout.write(f"serving {url}/api/v1/ (branch {served_branch})\n")
        sys.stdout.flush()
        if addr_file is not None:
            atomic_write(addr_file, (url + "\n").encode())
        # Bound, uvicorn next: it shuts down on SIGTERM, then raises the signal again for the
        # handler it replaced; with this one that ends in exit 0 (as `agent run` does), not in
        # death by the signal. A SIGTERM before uvicorn takes over ends the command as cleanly.
        signal.signal(signal.SIGTERM, _exit_cleanly)

    return announce


def _remote_options(
    remote: str | None, branch: str | None, poll: str, webhook_secret_env: str | None
) -> float:
    """Check the options of remote mode together; the poll interval in seconds."""
    from cfgctl.errors import InputError
    from cfgctl.repo.timespec import parse_duration

    if remote is None:
        if webhook_secret_env is not None:
            raise InputError(
                "--webhook-secret-env needs --remote",
                hint="a webhook makes the server fetch its remote; a local repository is read "
                "as it is",
            )
        return 30.0
    if STATE.repo is not None:
        raise InputError(
            "--remote and -C exclude each other",
            hint="serve a local repository with -C DIR, or a remote with --remote URL",
        )
    if not branch:
        raise InputError("--remote needs --branch", hint="e.g. --remote URL --branch main")
    seconds = parse_duration(poll).total_seconds()
    if seconds < 1:
        raise InputError(f"--poll {poll} is under 1s", hint="use 1s or more (or a webhook)")
    return seconds


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _mount_tokens() -> None:
    from cfgctl.cli.commands.serve_tokens import token_app

    serve_app.add_typer(token_app, name="token")


_mount_tokens()
