"""What every rendering shares: where things live on the host or in the image, the header of a
rendered file, the folders an agent writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cfgctl._version import __version__
from cfgctl.agent.config import AgentConfig

__all__ = ["DEFAULT_IMAGE", "HEADER", "Options", "target_folders"]

DEFAULT_IMAGE = f"cfgctl:{__version__}"  # `docker build -t cfgctl:VERSION .` at the root

HEADER = (
    "{comment} Rendered by `cfgctl deploy render --for {kind}` from agent.yaml: edit agent.yaml\n"
    "{comment} and render again rather than editing this file (docs/operations.md, Deployment).\n"
)


@dataclass(frozen=True)
class Options:
    image: str = DEFAULT_IMAGE  # the cfgctl image of the Kubernetes manifests
    executable: str = "/usr/local/bin/cfgctl"  # cfgctl on the host (systemd's ExecStart)
    config_path: str = "/etc/cfgctl/agent.yaml"  # where agent.yaml is installed or mounted


def target_folders(config: AgentConfig) -> list[Path]:
    """The folders the agent writes its targets into (a temporary file, then a rename), each
    once, in the order of agent.yaml."""
    folders: list[Path] = []
    for target in config.targets:
        if target.path.parent not in folders:
            folders.append(target.path.parent)
    return folders
