"""`cfgctl agent run|once|status`: the sync agent."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cfgctl.cli.options import TextOrJson
from cfgctl.cli.output import out
from cfgctl.cli.reporters import emit

if TYPE_CHECKING:
    from cfgctl.agent.reconcile import PassResult

__all__ = ["app"]

app = typer.Typer(rich_markup_mode=None)
agent_app = typer.Typer(
    help="The sync agent: delivers merged configuration to running services.\n\n"
    "It fetches the config repository's branch, renders the effective configuration of each "
    "target (secrets decrypted with its age key), refuses what fails validation, respects "
    "maintenance windows, freezes and Deploy-After trailers, writes each file atomically, "
    "reloads the service, health-checks it and rolls back what hurts. agent.yaml describes it "
    "all (`cfgctl schema show --builtin agent`; docs/agent.md).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(agent_app, name="agent")

ConfigOpt = Annotated[
    Path,
    typer.Option("--config", "-c", metavar="AGENT.YAML", help="The agent's configuration file."),
]


def _print_status(doc: dict[str, Any]) -> None:
    remote = doc["remote"]
    tip = str(doc["tip"])[:12] if doc.get("tip") else "(not fetched yet)"
    state = "ok" if remote["ok"] else f"failing: {remote['error']}"
    out.print(f"remote {remote['url']} ({doc['branch']}): {state}; branch at {tip}")
    for t in doc["targets"]:
        commit = (t["commit"] or "-")[:12]
        line = f"  {t['target']}  wave {t['wave']}  {t['state']}  at {commit}"
        if t["last_error"]:
            line += f"  ({t['last_error']})"
        out.print(line)
        canary = t.get("canary")
        if canary and canary.get("state") != "skipped":
            verdict = canary.get("verdict")
            verdict = f" ({verdict})" if verdict and verdict != canary["state"] else ""
            out.print(
                f"    canary of {str(canary['commit'])[:12]}: {canary['state']}{verdict}:"
                f" {canary['reason']}"
            )


@agent_app.command("run")
def run_cmd(
    config: ConfigOpt,
    grace: Annotated[
        str | None,
        typer.Option(
            "--grace-period",
            metavar="DURATION",
            help="How long SIGTERM waits for the current target before cutting it off"
            " (default: grace_period in agent.yaml, else 10s).",
        ),
    ] = None,
) -> None:
    """Run the agent until SIGTERM: a pass at start, then every source.poll_interval or at once
    when a signed GitHub push webhook arrives. Serves /healthz, /status and /metrics on the
    webhook's (or http's) address; the bound address is written to STATE_DIR/agent.addr.
    SIGTERM finishes the current target, saves the state and exits 0 within the grace period
    (a target still running then is cut off, and checked again at the next start).

    Example: cfgctl agent run --config /etc/cfgctl/agent.yaml --grace-period 20s
    """
    from cfgctl.agent.config import load_agent_config
    from cfgctl.agent.daemon import run_daemon
    from cfgctl.repo.timespec import parse_duration

    agent_config = load_agent_config(config)
    period = agent_config.grace_period if grace is None else parse_duration(grace)
    run_daemon(agent_config, grace=period.total_seconds())


@agent_app.command("once")
def once_cmd(
    config: ConfigOpt,
    fmt: Annotated[
        TextOrJson, typer.Option("--format", "-f", help="text or json.")
    ] = TextOrJson.text,
) -> None:
    """Run one reconcile pass and exit: 0 when every target is in place (or held by a window),
    1 when a target failed, was refused or blocked, 3 when the remote cannot be fetched.

    Example: cfgctl agent once --config agent.yaml --format json
    """
    from cfgctl.agent.config import load_agent_config
    from cfgctl.agent.daemon import run_once

    result = run_once(load_agent_config(config))
    emit(fmt.value, result.to_dict(), lambda: _print_pass(result))
    raise typer.Exit(3 if result.error else 0 if result.ok else 1)


@agent_app.command("status")
def status_cmd(
    config: ConfigOpt,
    fmt: Annotated[
        TextOrJson, typer.Option("--format", "-f", help="text or json.")
    ] = TextOrJson.text,
) -> None:
    """Show each target's commit, state and last error, and the remote's health, from the
    agent's saved state (it works whether the agent runs or not). JSON: what /status serves.

    Example: cfgctl agent status --config agent.yaml
    """
    from cfgctl.agent.config import load_agent_config
    from cfgctl.agent.server import status_document
    from cfgctl.agent.state import AgentState

    cfg = load_agent_config(config)
    doc = status_document(cfg, AgentState.load(cfg.state_dir / "state.json"))
    emit(fmt.value, doc, lambda: _print_status(doc))


def _print_pass(result: PassResult) -> None:
    if result.error:
        out.print(f"fetch failed: {result.error}")
    for label, names in (
        ("applied", result.applied),
        ("failed", result.failed),
        ("held", result.held),
        ("blocked", result.blocked),
        ("unchanged", result.unchanged),
    ):
        for name in names:
            out.print(f"{label}: {name}")
