"""`cfgctl fleet publish|status`: the configuration distributed through etcd (cfgctl.fleet)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cfgctl.cli.options import FormatOpt, TextOrJson
from cfgctl.cli.output import out
from cfgctl.cli.reporters import emit
from cfgctl.cli.state import STATE
from cfgctl.errors import CheckFailed

if TYPE_CHECKING:
    from cfgctl.fleet.publish import PublishResult
    from cfgctl.fleet.status import FleetStatus

__all__ = ["app"]

app = typer.Typer(rich_markup_mode=None)
fleet = typer.Typer(
    help="The fleet: configuration published to etcd, watched by agents and services.",
    no_args_is_help=True,
)
app.add_typer(fleet, name="fleet")

EtcdOpt = Annotated[
    str,
    typer.Option(
        "--etcd",
        metavar="URL[,URL...]",
        envvar="CFGCTL_ETCD",
        help="The etcd cluster's client URLs (every member you know; a lost one is skipped). "
        "Env: CFGCTL_ETCD.",
    ),
]
PrefixOpt = Annotated[
    str,
    typer.Option(
        "--prefix",
        metavar="PREFIX",
        help="The key prefix of this repository's configuration in etcd.",
    ),
]
TimeoutOpt = Annotated[
    float,
    typer.Option("--timeout", metavar="SECONDS", min=0.1, help="Each request's time limit."),
]


@fleet.command("publish")
def publish(
    etcd: EtcdOpt,
    rev: Annotated[
        str, typer.Option("--rev", metavar="REV", help="The commit to publish.")
    ] = "HEAD",
    prefix: PrefixOpt = "/cfgctl",
    timeout: TimeoutOpt = 10.0,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Publish even when the published head is another repository's commit, or a "
            "later commit than REV.",
        ),
    ] = False,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Publish commit REV to etcd: every (service, env) whose configuration changed since the
    published head, then the head, last.

    Each pair goes to PREFIX/v1/config/ENV/SERVICE as JSON: its layers as in the repository
    (a .secrets.yaml layer as its encrypted sops document: only holders of the environment's
    age key open it), the rendered configuration of its plain layers, the commit and a digest.
    Index shards and the head list every digest, so a reader that sees a head sees every pair
    of that commit, checked, or nothing. Transactions stay under etcd's limits (128 operations,
    1.5 MiB); a pair over the limit is refused by name before anything is written.
    Publishing the head again writes nothing. No decryption key is needed.

    The published head must be REV or one of its ancestors: a head of another repository,
    or a later commit (CI jobs finishing out of order), is refused unless --force. In a
    shallow clone an unknown head is only a warning.

    Exit codes: 0 published (or nothing to do), 2 bad input (not a commit, a pair too large,
    a malformed URL), 3 the cluster unreachable, the prefix holding foreign data, another
    repository's or a later head (without --force), another publish running, or the head
    moved meanwhile (publish again).

    Example: cfgctl fleet publish --etcd http://10.0.0.1:2379,http://10.0.0.2:2379
    """
    from cfgctl.fleet.etcd import Etcd
    from cfgctl.fleet.incremental import OpenedCommit
    from cfgctl.fleet.layout import Layout
    from cfgctl.fleet.publish import commit_info, publish_commit

    layout = Layout.of(prefix)
    client = Etcd(etcd, timeout=timeout)
    opened = OpenedCommit.at(STATE.start(), rev)
    try:
        result = publish_commit(opened, client, layout, commit_info(opened), force=force)
    finally:
        client.close()
    emit(fmt.value, result.to_dict(), lambda: _print_publish(result, layout.prefix))


def _print_publish(result: PublishResult, prefix: str) -> None:
    commit = result.commit[:12]
    if result.unchanged:
        out.print(f"{commit} is the published head of {prefix} already: nothing written")
        return
    out.print(
        f"published {commit} to {prefix}: {len(result.written)} of {result.pairs} pairs written, "
        f"{len(result.deleted)} deleted, {len(result.files)} shared files, "
        f"{result.transactions} transactions in {result.seconds:.2f} s (revision "
        f"{result.revision})"
    )
    for name in result.written[:20]:
        out.print(f"  written {name}")
    if len(result.written) > 20:
        out.print(f"  ... and {len(result.written) - 20} more")
    for name in result.deleted:
        out.print(f"  deleted {name}")


@fleet.command("status")
def status(
    etcd: EtcdOpt,
    prefix: PrefixOpt = "/cfgctl",
    timeout: TimeoutOpt = 10.0,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Show, per environment, how many agents run the published head, which do not, and why
    (from the reports agents on an etcd source keep under PREFIX/v1/agents/).

    An agent is stuck when its last pass did not converge to the head (a target failed,
    is held or blocked, or it has not seen the head yet). Reports expire with their agent:
    one that stopped reporting disappears after three of its poll intervals.

    Exit codes: 0 every agent at the head, 1 some agent stuck, 3 the cluster unreachable.

    Example: cfgctl fleet status --etcd http://10.0.0.1:2379 --format json
    """
    from cfgctl.fleet.etcd import Etcd
    from cfgctl.fleet.layout import Layout
    from cfgctl.fleet.status import fleet_status

    client = Etcd(etcd, timeout=timeout)
    try:
        report = fleet_status(client, Layout.of(prefix))
    finally:
        client.close()
    emit(fmt.value, report.to_dict(), lambda: _print_status(report))
    if report.stuck:
        raise CheckFailed(f"{report.stuck} agent(s) not at the head {report.head[:12]}")


def _shown(text: object) -> str:
    """Text read from etcd, its control characters escaped: a report's key or error never
    drives the operator's terminal."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text)
    )


def _print_status(report: FleetStatus) -> None:
    if not report.head:
        out.print("nothing is published under this prefix yet")
    else:
        out.print(f"head {_shown(report.head[:12])} (revision {report.revision})")
    for env in report.envs:
        out.print(f"{_shown(env.env)}: {env.at_head} of {len(env.agents)} agents at the head")
        for agent in env.agents:
            if not agent.at_head:
                out.print(f"  {_shown(agent.agent)}: {_shown(agent.why)}")
    if not report.envs:
        out.print("no agent reports")
