"""`cfgctl fleet status`: per environment, which agents run the published head and why the
others do not, from the reports agents on an etcd source keep under `<prefix>/v1/agents/`.

    report = fleet_status(etcd, layout)
    report.stuck        # agents not at the head (exit 1 when any)

An agent's report (written after each of its passes, under a lease of three poll intervals, so
a dead agent's report expires) holds what `/status` serves: the commit it saw, each target's
state and last error (never a configuration value).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cfgctl.fleet.documents import HeadDoc
from cfgctl.fleet.etcd import Etcd
from cfgctl.fleet.layout import Layout

__all__ = ["AgentStatus", "EnvStatus", "FleetStatus", "fleet_status", "why_not_at_head"]


@dataclass
class AgentStatus:
    agent: str
    env: str
    tip: str | None
    at_head: bool
    why: str
    targets: int
    time: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class EnvStatus:
    env: str
    agents: list[AgentStatus] = field(default_factory=list)

    @property
    def at_head(self) -> int:
        return sum(1 for a in self.agents if a.at_head)

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "agents": len(self.agents),
            "at_head": self.at_head,
            "not_at_head": [a.to_dict() for a in self.agents if not a.at_head],
        }


@dataclass
class FleetStatus:
    head: str
    revision: int
    envs: list[EnvStatus]

    @property
    def stuck(self) -> int:
        return sum(len(e.agents) - e.at_head for e in self.envs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "head": self.head or None,
            "revision": self.revision,
            "stuck": self.stuck,
            "environments": [e.to_dict() for e in self.envs],
        }


def why_not_at_head(report: dict[str, Any], head: str) -> str:
    """'' when the report shows every target of the agent at `head`, else the reason."""
    tip = report.get("tip")
    remote = report.get("remote") if isinstance(report.get("remote"), dict) else {}
    if remote and remote.get("ok") is False:
        return f"cannot read the source: {remote.get('error') or 'unreachable'}"
    if tip != head:
        return f"has seen {str(tip or 'nothing')[:12]}, not the head {head[:12]}"
    reasons = []
    for target in report.get("targets") or []:
        if not isinstance(target, dict):
            continue
        if target.get("commit") == head and target.get("state") == "in-sync":
            continue
        error = target.get("last_error") or f"runs {str(target.get('commit') or 'nothing')[:12]}"
        reasons.append(f"{target.get('target')}: {target.get('state')}: {error}")
    return "; ".join(reasons)


def fleet_status(etcd: Etcd, layout: Layout) -> FleetStatus:
    found = etcd.range(layout.head)
    head = HeadDoc.parse(layout.head, found.kvs[0].value).commit if found.kvs else ""
    envs: dict[str, EnvStatus] = {}
    for kv in etcd.prefix(layout.agents(), revision=found.revision).kvs:
        env, _, agent = kv.key[len(layout.agents()) :].partition("/")
        if not agent:
            agent, env = "(no agent name)", env or "(no environment)"
        try:
            report = json.loads(kv.value)
        except (ValueError, RecursionError):
            report = None
        if not isinstance(report, dict):
            why = "its report is not JSON (not written by a cfgctl agent)"
            status = AgentStatus(agent, env, None, False, why, 0, "")
        else:
            why = why_not_at_head(report, head) if head else "nothing is published"
            status = AgentStatus(
                agent,
                env,
                report.get("tip"),
                not why,
                why,
                len(report.get("targets") or []),
                str(report.get("time") or ""),
            )
        envs.setdefault(env, EnvStatus(env)).agents.append(status)
    ordered = [envs[name] for name in sorted(envs)]
    return FleetStatus(head, found.revision, ordered)
