"""The sync agent: delivers merged configuration to running services (see docs/agent.md).

config = load_agent_config(Path("agent.yaml"))
agent = Agent(config)
agent.run_pass()          # one reconcile pass: fetch, render, validate, write, reload, check

The names are loaded when first used (PEP 562): `cfgctl agent status` reads agent.yaml through
`cfgctl.agent.config` without importing the reconcile loop, its canary gate and their imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cfgctl.agent.config import AgentConfig, load_agent_config
    from cfgctl.agent.reconcile import Agent, PassResult

__all__ = ["Agent", "AgentConfig", "PassResult", "load_agent_config"]

_HOMES = {
    "Agent": "cfgctl.agent.reconcile",
    "PassResult": "cfgctl.agent.reconcile",
    "AgentConfig": "cfgctl.agent.config",
    "load_agent_config": "cfgctl.agent.config",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
