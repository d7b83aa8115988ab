"""`cfgctl deploy render`: systemd units and Kubernetes manifests rendered from one agent.yaml."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cfgctl.cli.output import err

__all__ = ["app"]

app = typer.Typer(rich_markup_mode=None)
deploy_app = typer.Typer(
    help="Deployment files of the sync agent, rendered from its agent.yaml.\n\n"
    "The systemd unit and the Kubernetes manifests follow the agent's configuration (the "
    "folders it writes, its port, its key), so they never drift from it (docs/operations.md, "
    "Deployment).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(deploy_app, name="deploy")


@deploy_app.command("render")
def render_cmd(
    agent_yaml: Annotated[
        Path, typer.Argument(metavar="AGENT_YAML", help="The agent's configuration file.")
    ],
    kind: Annotated[
        str,
        typer.Option(
            "--for",
            metavar="systemd|kubernetes|sidecar",
            help="systemd: cfgctl-agent.service. kubernetes: a ConfigMap and a DaemonSet (the "
            "node's files). sidecar: a ConfigMap and the application's Deployment with the "
            "agent beside it (shared emptyDirs).",
        ),
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", metavar="DIR", help="Write the file into DIR (default: stdout)."
        ),
    ] = None,
    image: Annotated[
        str | None,
        typer.Option(
            "--image", metavar="IMAGE", help="The cfgctl image (default: cfgctl:VERSION)."
        ),
    ] = None,
    executable: Annotated[
        str,
        typer.Option("--bin", metavar="PATH", help="cfgctl on the host, for ExecStart."),
    ] = "/usr/local/bin/cfgctl",
    config_path: Annotated[
        str,
        typer.Option(
            "--config-path",
            metavar="PATH",
            help="Where agent.yaml is installed on the host or mounted in the pod.",
        ),
    ] = "/etc/cfgctl/agent.yaml",
) -> None:
    """Render the deployment file of the agent described by AGENT_YAML: the systemd unit
    (writable: only its state_dir and its targets' folders; hardened to an exposure of about
    1.1 by `systemd-analyze security`), or Kubernetes manifests with agent.yaml in a ConfigMap,
    the age key from the Secret cfgctl-age-key, tokens from the Secret cfgctl-agent-env, and
    probes on /healthz when agent.yaml has a listen address. Paths in AGENT_YAML must be
    absolute. Exit 2 for a missing or wrong AGENT_YAML or an unknown --for.

    Example: cfgctl deploy render --for systemd /etc/cfgctl/agent.yaml --out /etc/systemd/system
    """
    from cfgctl.deploy.options import DEFAULT_IMAGE, Options
    from cfgctl.deploy.render import render, write

    options = Options(image or DEFAULT_IMAGE, executable, config_path)
    rendered = render(kind, agent_yaml, options)
    if out_dir is None:
        sys.stdout.write(rendered.text)
        return
    path = write(out_dir, rendered)
    err.print(f"wrote {path}")
