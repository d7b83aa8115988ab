"""The agent's counters, served at /metrics in the Prometheus text format (version 0.0.4)."""

from __future__ import annotations

import threading
import time

__all__ = ["LATENCY_BUCKETS", "Metrics"]

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.passes = 0
        self.applies = 0
        self.failures = 0
        self.rollbacks = 0
        self.refusals = 0
        self.drifts = 0
        self.remote_up = 1
        self.last_success: float | None = None  # time.time() of the last fully good pass
        self.latency_counts = [0] * len(LATENCY_BUCKETS)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.in_sync: dict[str, int] = {}

    def count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def observe_latency(self, seconds: float) -> None:
        with self._lock:
            self.latency_sum += seconds
            self.latency_count += 1
            for i, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    self.latency_counts[i] += 1

    def render(self) -> str:
        with self._lock:
            since = -1.0 if self.last_success is None else time.time() - self.last_success
            lines = [
                "# HELP cfgctl_agent_passes_total Reconcile passes run.",
                "# TYPE cfgctl_agent_passes_total counter",
                f"cfgctl_agent_passes_total {self.passes}",
                "# HELP cfgctl_agent_applies_total Targets delivered and found healthy.",
                "# TYPE cfgctl_agent_applies_total counter",
                f"cfgctl_agent_applies_total {self.applies}",
                "# HELP cfgctl_agent_failures_total Deliveries that failed (write, reload, "
                "health, invalid config).",
                "# TYPE cfgctl_agent_failures_total counter",
                f"cfgctl_agent_failures_total {self.failures}",
                "# HELP cfgctl_agent_rollbacks_total Last good files put back after a failure.",
                "# TYPE cfgctl_agent_rollbacks_total counter",
                f"cfgctl_agent_rollbacks_total {self.rollbacks}",
                "# HELP cfgctl_agent_refusals_total Commits refused: broken or invalid config.",
                "# TYPE cfgctl_agent_refusals_total counter",
                f"cfgctl_agent_refusals_total {self.refusals}",
                "# HELP cfgctl_agent_drifts_total Delivered files found edited by hand.",
                "# TYPE cfgctl_agent_drifts_total counter",
                f"cfgctl_agent_drifts_total {self.drifts}",
                "# HELP cfgctl_agent_remote_up 1 when the last fetch of the remote worked.",
                "# TYPE cfgctl_agent_remote_up gauge",
                f"cfgctl_agent_remote_up {self.remote_up}",
                "# HELP cfgctl_agent_seconds_since_last_sync Seconds since the last pass that "
                "fetched and left every target well (-1: none yet).",
                "# TYPE cfgctl_agent_seconds_since_last_sync gauge",
                f"cfgctl_agent_seconds_since_last_sync {since:.3f}",
                "# HELP cfgctl_agent_delivery_latency_seconds From commit time to applied.",
                "# TYPE cfgctl_agent_delivery_latency_seconds histogram",
            ]
            for bound, count in zip(LATENCY_BUCKETS, self.latency_counts, strict=True):
                lines.append(
                    f'cfgctl_agent_delivery_latency_seconds_bucket{{le="{bound:g}"}} {count}'
                )
            lines += [
                f'cfgctl_agent_delivery_latency_seconds_bucket{{le="+Inf"}} {self.latency_count}',
                f"cfgctl_agent_delivery_latency_seconds_sum {self.latency_sum:.6f}",
                f"cfgctl_agent_delivery_latency_seconds_count {self.latency_count}",
                "# HELP cfgctl_agent_target_in_sync 1 when the target holds the branch's commit.",
                "# TYPE cfgctl_agent_target_in_sync gauge",
            ]
            for name, value in sorted(self.in_sync.items()):
                lines.append(f'cfgctl_agent_target_in_sync{{target="{_label(name)}"}} {value}')
        return "\n".join(lines) + "\n"
