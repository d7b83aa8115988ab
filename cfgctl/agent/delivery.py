"""One delivery of one target, and what happens when it hurts or is cut off.

    deliverer = Deliverer(state, backups, audit, metrics)
    deliverer.apply(target, ts, sha, data, secret=False, committed=when)
    deliverer.recover(target)      # at start: a delivery cut off (kill -9) is checked or undone

The order makes a crash at any step recoverable: what is on disk is backed up (per target), the
commit and the digest of the new content are marked in flight in `state.json` (atomically), and
only then is the file swapped. A restarted agent finds the marker: when the file holds the new
content it reloads and health-checks it again, and puts the backup back when that fails.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from cfgctl import telemetry
from cfgctl.agent.audit import AuditLog
from cfgctl.agent.config import Target
from cfgctl.agent.deliver import (
    Backup,
    Backups,
    DeliveryError,
    content_digest,
    digest_of,
    restore,
    write_target,
)
from cfgctl.agent.metrics import Metrics
from cfgctl.agent.probes import check_health, reload_service
from cfgctl.agent.state import AgentState, TargetState
from cfgctl.repo.fsutil import remove_stale_temps
from cfgctl.repo.timespec import utc_iso

__all__ = ["Deliverer"]

log = logging.getLogger("cfgctl.agent")


def _now() -> datetime:
    return datetime.now(UTC)


def _attributes(target: Target, sha: str) -> dict[str, str | int]:
    """What a delivery's spans say: names and places, never a configuration value."""
    return {
        "cfgctl.commit": sha,
        "cfgctl.target": target.name,
        "cfgctl.service": target.service,
        "cfgctl.env": target.env,
        "cfgctl.path": str(target.path),
        "cfgctl.wave": target.wave,
    }


class Deliverer:
    def __init__(
        self, state: AgentState, backups: Backups, audit: AuditLog, metrics: Metrics
    ) -> None:
        self.state, self.backups, self.audit, self.metrics = state, backups, audit, metrics

    def set(self, ts: TargetState, state: str, error: str | None) -> None:
        ts.state, ts.error, ts.updated = state, error, utc_iso(_now())
        self.state.save()

    def in_place(self, ts: TargetState, sha: str, digest: str) -> None:
        """The file holds exactly what `sha` renders: recorded, nobody disturbed."""
        ts.applied, ts.good, ts.digest = sha, sha, digest
        ts.failed = ts.drift = ts.held_until = None
        self.set(ts, "in-sync", None)

    def fail(
        self, target: Target, ts: TargetState, sha: str, why: str, *, retry: bool = False
    ) -> str:
        """A failure before anything was written: recorded, nothing to roll back. `retry`: the
        commit is tried again at the next pass (the cause is the agent's, not the commit's)."""
        error = f"commit {sha[:12]}: {why}"
        repeated = ts.state == "failed" and ts.error == error
        if not retry:
            ts.failed = sha
        self.set(ts, "failed", error)
        if not repeated:  # a cause that stays is recorded once, not at every pass
            self.metrics.count("failures")
            self.audit.record("apply", target.name, ts.applied, sha, "failed", error=why)
            log.error("%s: %s", target.name, why)
        return "failed"

    def apply(
        self,
        target: Target,
        ts: TargetState,
        sha: str,
        data: bytes,
        *,
        secret: bool,
        committed: datetime,
        traceparent: str | None = None,
    ) -> str:
        """Deliver `data` to the target; its spans continue the commit's trace (`traceparent`,
        from the commit's trailer) and the reader of the file gets that trace (telemetry)."""
        with telemetry.span("agent.apply", _attributes(target, sha), parent=traceparent) as span:
            outcome = self._apply(target, ts, sha, data, secret=secret, committed=committed)
            span.set("cfgctl.outcome", outcome if ts.state != "rolled-back" else "rolled-back")
            if outcome != "applied":
                span.fail(ts.error or outcome)
            return outcome

    def _apply(
        self,
        target: Target,
        ts: TargetState,
        sha: str,
        data: bytes,
        *,
        secret: bool,
        committed: datetime,
    ) -> str:
        try:
            backup = self.backups.take(target)
        except (DeliveryError, OSError) as exc:
            why = exc.message if isinstance(exc, DeliveryError) else str(exc)
            return self.fail(target, ts, sha, f"cannot keep a backup: {why}")
        wrote = content_digest(data)
        ts.inflight, ts.inflight_digest = sha, wrote
        self.state.save()  # the marker is on disk before the swap
        try:
            with telemetry.span("agent.write", {"cfgctl.path": str(target.path)}):
                mode = target.mode if target.mode is not None else (0o600 if secret else 0o644)
                telemetry.write_traceparent_file(
                    target.path,
                    telemetry.current_traceparent(),
                    commit=sha,
                    data=data,
                    mode=mode,
                )
                write_target(target, data, secret=secret)
            with telemetry.span("agent.reload"):
                reload_service(target.reload, target)
            with telemetry.span("agent.health"):
                check_health(target.health, target)
        except DeliveryError as exc:
            return self.roll_back(target, ts, sha, backup, exc.message)
        except OSError as exc:  # anything the delivery steps did not foresee: still per target
            return self.roll_back(target, ts, sha, backup, f"{exc.strerror or exc}")
        self._confirm(target, ts, sha, committed)
        return "applied"

    def _confirm(
        self, target: Target, ts: TargetState, sha: str, committed: datetime | None
    ) -> None:
        previous = ts.applied
        digest = ts.inflight_digest
        if previous != sha:
            ts.previous = previous
        ts.applied = ts.good = sha
        ts.digest = digest
        ts.failed = ts.inflight = ts.inflight_digest = ts.held_until = ts.drift = None
        # Counted before the state says in-sync: whoever sees in-sync sees the counts too.
        self.metrics.count("applies")
        extra: dict[str, object] = {"wave": target.wave}  # read by cfgctl analyze
        if committed is not None:
            latency = max(0.0, (_now() - committed).total_seconds())
            self.metrics.observe_latency(latency)
            extra["seconds"] = round(latency, 3)
        self.set(ts, "in-sync", None)
        self.audit.record("apply", target.name, previous, sha, "ok", **extra)
        log.info(
            "%s: applied %s",
            target.name,
            sha[:12],
            extra={"fields": {"target": target.name, "commit": sha}},
        )

    def roll_back(self, target: Target, ts: TargetState, sha: str, backup: Backup, why: str) -> str:
        """Put back what was on disk before this apply (this target's backup only)."""
        with telemetry.span("agent.rollback", _attributes(target, sha)) as span:
            outcome = self._roll_back(target, ts, sha, backup, why)
            span.set("cfgctl.outcome", ts.state)
            if ts.state != "rolled-back":
                span.fail(ts.error or "not restored")
            return outcome

    def _roll_back(
        self, target: Target, ts: TargetState, sha: str, backup: Backup, why: str
    ) -> str:
        restored, note = False, ""
        ts.failed, ts.error = sha, f"commit {sha[:12]}: {why}"
        self.state.save()  # a rollback cut off (kill -9) is finished at the next start
        try:
            restored = restore(target, backup, ts.inflight_digest or "")
            if restored:
                if backup.data is not None:
                    telemetry.write_traceparent_file(
                        target.path,
                        telemetry.current_traceparent(),
                        commit=ts.good,
                        data=backup.data,
                        mode=backup.mode,
                    )
                reload_service(target.reload, target)
        except DeliveryError as exc:
            note = f"; the rollback failed too: {exc.message}"
        if not restored and not note and backup.data is None:
            note = "; the file was not there before, and was changed since: left in place"
        ts.failed, ts.inflight, ts.inflight_digest = sha, None, None
        ok = restored and not note
        self.set(ts, "rolled-back" if ok else "failed", f"commit {sha[:12]}: {why}{note}")
        self.metrics.count("failures")
        if restored:
            self.metrics.count("rollbacks")
        action = "rollback" if restored else "apply"
        outcome = "rolled-back" if ok else "failed"
        self.audit.record(action, target.name, sha, ts.good, outcome, error=why + note)
        log.error("%s: %s; %s", target.name, why, "rolled back" if restored else "not restored")
        return "failed"

    def undo(self, target: Target, ts: TargetState, sha: str, why: str) -> bool:
        """Put back what was on disk before `sha` was applied, after it was confirmed healthy
        (the canary gate found it worse): the backup taken right before that apply. The state
        returns to the commit it replaced; `sha` is not retried until a newer commit. Marked in
        flight first, so a rollback cut off (kill -9) is finished at the next start. False
        when there is nothing to put back."""
        backup = self.backups.get(target)
        if backup is None or ts.applied != sha:
            self.fail(target, ts, sha, f"{why}; no backup to roll back to")
            return False
        ts.inflight, ts.inflight_digest = sha, ts.digest
        ts.applied = ts.good = ts.previous
        ts.digest = None if backup.data is None else content_digest(backup.data)
        self.roll_back(target, ts, sha, backup, why)
        return ts.state == "rolled-back"

    def sweep(self, target: Target) -> None:
        """Remove the temporary files a write cut off by kill -9 left next to the target or its
        backup (they may hold decrypted secrets). Once, at start: only an earlier process leaves
        them, and this one owns the target and its backup under the state lock."""
        for path in (target.path, self.backups.file(target)):
            for stale in remove_stale_temps(path):
                log.warning("%s: removed %s, left by a delivery cut off", target.name, stale)
        telemetry.remove_traceparent_temps(target.path)

    def recover(self, target: Target) -> None:
        """A delivery cut off (the agent killed between the marker and the confirmation): when
        the file holds its content, reload and health-check it again; roll back what fails."""
        ts = self.state.target(target.name)
        if ts.inflight is None:
            return
        sha, backup = ts.inflight, self.backups.get(target)
        try:
            current = digest_of(target.path)
        except DeliveryError:
            current = None
        if ts.failed == sha and backup is not None:
            # cut off while rolling back: put the backup back (again) and reload
            why = (ts.error or "").removeprefix(f"commit {sha[:12]}: ")
            self.roll_back(target, ts, sha, backup, f"{why} (rollback finished after a restart)")
            return
        if current is None or current != ts.inflight_digest:
            # not swapped yet (or changed since): nothing of that delivery is on disk
            ts.inflight = ts.inflight_digest = None
            self.state.save()
            return
        log.warning("%s: the delivery of %s was cut off: checking it again", target.name, sha[:12])
        try:
            reload_service(target.reload, target)
            check_health(target.health, target)
        except DeliveryError as exc:
            if backup is None:
                ts.inflight = ts.inflight_digest = None
                self.fail(target, ts, sha, f"{exc.message} (no backup to restore)")
                return
            self.roll_back(target, ts, sha, backup, exc.message)
            return
        self._confirm(target, ts, sha, None)
