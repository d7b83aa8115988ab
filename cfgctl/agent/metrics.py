"""The agent's counters, served at /metrics by `prometheus-client` from the agent's own
registry (never the process-wide default one: two agents in one process count apart).

    metrics = Metrics()
    metrics.count("applies"); metrics.observe_latency(1.2); metrics.remote_up = 0
    metrics.in_sync["payments@prod:/etc/payments.yaml"] = 1
    metrics.target_state("payments@prod:/etc/payments.yaml", "waiting")   # in_sync 0, held 1
    body, content_type = metrics.exposition()

`cfgctl_agent_target_held` tells a target that waits on purpose (a maintenance window, a freeze,
a Deploy-After trailer, an earlier wave that is held or under canary analysis) from one that is
stuck: the alerts of deploy/prometheus/cfgctl.rules.yaml count only the second as behind.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

__all__ = ["LATENCY_BUCKETS", "Metrics"]

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

_COUNTERS = {
    "passes": "Reconcile passes run.",
    "applies": "Targets delivered and found healthy.",
    "failures": "Deliveries that failed (write, reload, health, invalid config).",
    "rollbacks": "Last good files put back after a failure.",
    "refusals": "Commits refused: broken or invalid config.",
    "drifts": "Delivered files found edited by hand.",
    "canary_rollbacks": "Targets rolled back because their wave's canary analysis failed.",
}


class _InSync(dict[str, int]):
    """target -> 1 when it holds the branch's commit; each assignment sets the gauge."""

    def __init__(self, gauge: Gauge) -> None:
        super().__init__()
        self._gauge = gauge

    def __setitem__(self, target: str, value: int) -> None:
        super().__setitem__(target, value)
        self._gauge.labels(target=target).set(value)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._counters = {
            name: Counter(f"cfgctl_agent_{name}", text, registry=self.registry)
            for name, text in _COUNTERS.items()
        }
        self._remote_up = Gauge(
            "cfgctl_agent_remote_up",
            "1 when the last fetch of the remote worked.",
            registry=self.registry,
        )
        self._up = 1
        self._remote_up.set(1)
        self.last_success: float | None = None  # time.time() of the last fully good pass
        Gauge(
            "cfgctl_agent_seconds_since_last_sync",
            "Seconds since the last pass that fetched and left every target well (-1: none yet).",
            registry=self.registry,
        ).set_function(self._since_last_sync)
        self._latency = Histogram(
            "cfgctl_agent_delivery_latency_seconds",
            "From commit time to applied.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._analyses = Counter(
            "cfgctl_agent_analyses",
            "Canary analyses judged, by verdict (regression, inconclusive, pass).",
            ["verdict"],
            registry=self.registry,
        )
        self._held = Gauge(
            "cfgctl_agent_target_held",
            "1 when the target waits on purpose (window, freeze, Deploy-After, an earlier wave).",
            ["target"],
            registry=self.registry,
        )
        self.in_sync = _InSync(
            Gauge(
                "cfgctl_agent_target_in_sync",
                "1 when the target holds the branch's commit.",
                ["target"],
                registry=self.registry,
            )
        )

    def _since_last_sync(self) -> float:
        return -1.0 if self.last_success is None else time.time() - self.last_success

    def target_state(self, target: str, state: str) -> None:
        """Set the target's gauges from its state: in sync (`in-sync`), held (`waiting`)."""
        self.in_sync[target] = int(state == "in-sync")
        self._held.labels(target=target).set(int(state == "waiting"))

    def count(self, name: str) -> None:
        self._counters[name].inc()

    def count_analysis(self, verdict: str) -> None:
        self._analyses.labels(verdict=verdict).inc()

    @property
    def remote_up(self) -> int:
        return self._up

    @remote_up.setter
    def remote_up(self, value: int) -> None:
        self._up = value
        self._remote_up.set(value)

    def observe_latency(self, seconds: float) -> None:
        self._latency.observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The body of /metrics and its Content-Type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
