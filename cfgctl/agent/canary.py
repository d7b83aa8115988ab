"""The canary gate: after a wave is delivered and healthy, judge what it did to the metrics
before the later waves get it, and roll the wave back when it made things worse.

    gate = CanaryGate(state, deliverer, audit, metrics)
    gate.start(target, ts, sha)                   # right after a target with `analysis:` applied
    verdict = gate.check(wave, targets, later, commit_sha, snap, now)
    verdict.state                                 # open, waiting (until verdict.until), failed

A target with `analysis:` (agent.yaml) that received a commit is `analysing` for its window
(not its first delivery, onto no file: there is no earlier configuration to compare with);
the later waves wait meanwhile (and every pass until then is a cheap no-op for the gate). Once
the window is over, the metrics of the delivered commit's analytics.yaml are judged as
`cfgctl analyze impact` judges them (`cfgctl.analyze.impact.judge_target`): the window before
the delivery against the window after it, with the targets of later waves (same service and
environment, still on the old configuration) as the control group. Then:

- `regression` (or, with `fail_on: inconclusive`, anything short of a pass): every target of
  the wave that holds the commit gets its backup back (`Deliverer.undo`), the commit is not
  retried until a newer one, and the later waves are blocked;
- `inconclusive` with `inconclusive: hold`: judged again over two windows, three..., up to
  `rounds`; then the later waves stay held until a newer commit (nothing is rolled back: the
  data could not show harm); `proceed`: the gate opens;
- `pass`: the gate opens.

A metrics source that cannot be read, an analytics.yaml that is missing or names no such
metric: an inconclusive judgement with that reason (never a pass). Every judgement is in the
audit log (action `analysis`, with its numbers: never a configuration value), in the target's
`canary` of /status, and counted in /metrics (`cfgctl_agent_analyses_total{verdict}`). The
state is saved at each step: a restarted agent goes on waiting, or finishes a rollback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from cfgctl.agent.audit import AuditLog
from cfgctl.agent.config import Analysis, Target
from cfgctl.agent.delivery import Deliverer
from cfgctl.agent.metrics import Metrics
from cfgctl.agent.state import AgentState, TargetState
from cfgctl.errors import CfgctlError
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.timespec import utc_iso

__all__ = ["CanaryGate", "GateVerdict"]

log = logging.getLogger("cfgctl.agent")

GateState = Literal["open", "waiting", "failed"]


@dataclass(frozen=True)
class GateVerdict:
    state: GateState
    reason: str = ""
    until: float | None = None  # waiting: when the gate is to be checked again (Unix seconds)


@dataclass(frozen=True)
class _Judged:
    verdict: str  # regression, inconclusive, pass
    reason: str
    metrics: list[dict[str, Any]]


def _iso(when: float) -> str:
    return utc_iso(datetime.fromtimestamp(when, UTC))


class CanaryGate:
    def __init__(
        self, state: AgentState, deliverer: Deliverer, audit: AuditLog, metrics: Metrics
    ) -> None:
        self.state, self.deliverer, self.audit, self.metrics = state, deliverer, audit, metrics

    def start(self, target: Target, ts: TargetState, sha: str, now: float) -> None:
        """`sha` was just delivered to `target` and found healthy: its analysis begins."""
        if target.analysis is None:
            ts.canary = None
            return
        backup = self.deliverer.backups.get(target)
        if ts.previous is None and (backup is None or backup.data is None):
            ts.canary = {
                "commit": sha,
                "since": now,
                "state": "skipped",
                "verdict": None,
                "reason": "the first delivery: no earlier configuration to compare with",
            }
            self.state.save()
            return
        window = target.analysis.window.total_seconds()
        ts.canary = {
            "commit": sha,
            "since": now,
            "until": now + window,
            "round": 1,
            "state": "analysing",
            "verdict": None,
            "reason": f"judged at {_iso(now + window)}",
        }
        self.state.save()

    def check(
        self,
        wave: int,
        targets: list[Target],
        later: list[Target],
        sha: str,
        snap: Snapshot,
        now: float,
    ) -> GateVerdict:
        """Whether the later waves may have `sha`: judge the wave's analyses that are due."""
        gated = {t.name: c for t in targets if (c := self._canary(t, sha)) is not None}
        if not gated:
            return GateVerdict("open")
        held = [name for name, c in gated.items() if c["state"] == "held"]
        if held:
            return GateVerdict(
                "waiting", f"wave {wave} is held: {held[0]}: {gated[held[0]]['reason']}"
            )
        pending = [t for t in targets if gated.get(t.name, {}).get("state") == "analysing"]
        due = min((float(gated[t.name]["until"]) for t in pending), default=now)
        if due > now:
            return GateVerdict(
                "waiting", f"waiting for the analysis of wave {wave} ({_iso(due)})", due
            )
        failed: list[str] = []
        again: list[float] = []
        for target in pending:
            outcome = self._judge(target, later, sha, snap, now)
            if outcome == "failed":
                failed.append(target.name)
            elif isinstance(outcome, float):
                again.append(outcome)
        if failed:
            self._roll_back_wave(wave, targets, sha, failed)
            return GateVerdict("failed", f"the canary analysis of wave {wave} failed")
        if again:
            until = min(again)
            return GateVerdict(
                "waiting", f"the analysis of wave {wave} goes on until {_iso(until)}", until
            )
        held = [name for name, c in gated.items() if c["state"] == "held"]
        if held:
            return GateVerdict(
                "waiting", f"wave {wave} is held: {held[0]}: {gated[held[0]]['reason']}"
            )
        return GateVerdict("open")

    def _canary(self, target: Target, sha: str) -> dict[str, Any] | None:
        ts = self.state.target(target.name)
        canary = ts.canary
        if canary is None or canary.get("commit") != sha or ts.applied != sha:
            return None
        return canary

    # --- judging ------------------------------------------------------------------------------

    def _judge(
        self, target: Target, later: list[Target], sha: str, snap: Snapshot, now: float
    ) -> str | float:
        """Judge one target: "failed" (rolled back with its wave), "open", or the time to
        judge again (inconclusive, held for another window)."""
        assert target.analysis is not None
        ts = self.state.target(target.name)
        canary = ts.canary
        assert canary is not None
        analysis = target.analysis
        window = analysis.window.total_seconds() * canary["round"]
        judged = self._measure(target, later, ts, sha, snap, window, now)
        self.metrics.count_analysis(judged.verdict)
        canary |= {"verdict": judged.verdict, "reason": judged.reason, "judged": _iso(now)}
        self.audit.record(
            "analysis", target.name, ts.previous, sha, judged.verdict,
            reason=judged.reason, window_seconds=window, metrics=judged.metrics,
        )  # fmt: skip
        log.info(
            "%s: canary analysis of %s: %s (%s)",
            target.name, sha[:12], judged.verdict, judged.reason,
        )  # fmt: skip
        return self._decide(analysis, ts, canary, judged, now)

    def _decide(
        self,
        analysis: Analysis,
        ts: TargetState,
        canary: dict[str, Any],
        judged: _Judged,
        now: float,
    ) -> str | float:
        if judged.verdict == "regression" or (
            judged.verdict == "inconclusive" and analysis.fail_on == "inconclusive"
        ):
            canary["state"] = "failed" if judged.verdict == "inconclusive" else "regression"
            return "failed"
        if judged.verdict == "inconclusive" and analysis.inconclusive == "hold":
            if canary["round"] < analysis.rounds:
                canary["round"] += 1
                until = canary["since"] + analysis.window.total_seconds() * canary["round"]
                canary["until"] = max(until, now)
                canary["reason"] += f"; judged again over {canary['round']} windows"
                self.state.save()
                return float(canary["until"])
            canary["state"] = "held"
            canary["reason"] += (
                f"; still inconclusive after {analysis.rounds} window(s): the later waves "
                "are held until a newer commit"
            )
            self.state.save()
            return "open"
        canary["state"] = "proceeded" if judged.verdict == "inconclusive" else "passed"
        self.state.save()
        return "open"

    def _measure(
        self,
        target: Target,
        later: list[Target],
        ts: TargetState,
        sha: str,
        snap: Snapshot,
        window: float,
        now: float,
    ) -> _Judged:
        from cfgctl.analyze.config import analytics_of
        from cfgctl.analyze.deliveries import Delivery
        from cfgctl.analyze.impact import judge_target

        assert target.analysis is not None
        assert ts.canary is not None
        since = float(ts.canary["since"])

        def delivery(t: Target) -> Delivery:
            return Delivery(since, t.name, t.service, t.env, sha, ts.previous, t.wave)

        controls = [
            delivery(t)
            for t in later
            if t.service == target.service
            and t.env == target.env
            and self.state.target(t.name).applied != sha
        ]
        try:
            config = analytics_of(snap)
            if config is None:
                return _Judged("inconclusive", "the commit has no analytics.yaml", [])
            config = config.only(target.analysis.metrics)
            result = judge_target(
                delivery(target), controls, config, config.open_source(), window=window, now=now
            )
        except CfgctlError as exc:
            return _Judged("inconclusive", f"the metrics could not be judged: {exc.message}", [])
        numbers = [
            {"metric": m.metric, "control": m.control, **m.judgement.to_dict()}
            for m in result.metrics
        ]
        return _Judged(result.verdict, result.reason, numbers)

    # --- rolling back -------------------------------------------------------------------------

    def _roll_back_wave(
        self, wave: int, targets: list[Target], sha: str, failed: list[str]
    ) -> None:
        judged = self.state.target(failed[0]).canary or {}
        why = f"canary analysis: {judged.get('verdict')}: {judged.get('reason')}"
        for target in targets:
            ts = self.state.target(target.name)
            if ts.applied != sha:
                continue
            canary = ts.canary
            if canary is not None and canary.get("commit") == sha and canary["state"] == "passed":
                canary["state"] = "rolled-back"  # fine on its own, undone with its wave
            self.metrics.count("canary_rollbacks")
            note = why if target.name in failed else f"wave {wave} rolled back: {failed[0]}: {why}"
            self.deliverer.undo(target, ts, sha, note)
