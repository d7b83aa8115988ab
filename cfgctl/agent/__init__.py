"""The sync agent: delivers merged configuration to running services (see docs/agent.md).

config = load_agent_config(Path("agent.yaml"))
agent = Agent(config)
agent.run_pass()          # one reconcile pass: fetch, render, validate, write, reload, check
"""

from cfgctl.agent.config import AgentConfig, load_agent_config
from cfgctl.agent.reconcile import Agent, PassResult

__all__ = ["Agent", "AgentConfig", "PassResult", "load_agent_config"]
