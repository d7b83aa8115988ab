"""One reconcile pass of the sync agent.

    agent = Agent(config)
    result = agent.run_pass()     # fetch; per wave, per target: render, validate, schedule,
                                  # write, reload, health-check; roll back what hurts

A target is delivered when the branch moved and its effective configuration differs from the
file in place. A commit that does not render or validate is never delivered. Maintenance
windows, `policy.yaml` freezes and a `Deploy-After:` commit trailer hold a change; an
`Emergency: true` trailer (set on commits that passed the emergency approval path) skips them.
A target whose health check fails gets its last good file back and is not retried with the same
commit; later waves stop. The state is saved after every step, so a restarted agent (even after
`kill -9`) converges without delivering twice.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from cfgctl import telemetry
from cfgctl.agent.audit import AuditLog
from cfgctl.agent.canary import CanaryGate
from cfgctl.agent.config import AgentConfig, Target
from cfgctl.agent.deliver import Backups, DeliveryError, content_digest, digest_of
from cfgctl.agent.delivery import Deliverer
from cfgctl.agent.metrics import Metrics
from cfgctl.agent.outcome import PassResult
from cfgctl.agent.source import Feed, Mirror, SourceError
from cfgctl.agent.state import AgentState, TargetState
from cfgctl.agent.targets import check_targets
from cfgctl.agent.windows import commit_trailers, next_opening
from cfgctl.checks.pairs import validate_pair
from cfgctl.errors import CfgctlError, EnvError, InputError
from cfgctl.repo.decrypt import Decrypter
from cfgctl.repo.formats import serialize
from cfgctl.repo.session import Session
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.timespec import parse_instant, utc_iso
from cfgctl.review.policy import Freeze
from cfgctl.review.policyfile import policy_of

__all__ = ["Agent", "PassResult"]

if TYPE_CHECKING:
    from cfgctl.agent.etcdfeed import EtcdFeed
    from cfgctl.agent.tailer import Tailer

log = logging.getLogger("cfgctl.agent")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Commit:
    """The commit being delivered, with what the pass needs to know of it."""

    sha: str
    snap: Snapshot
    time: datetime
    deploy_after: datetime | None
    emergency: bool
    traceparent: str | None = None  # its Traceparent: trailer

    @cached_property
    def freezes(self) -> list[Freeze]:
        """The freezes of the commit's policy.yaml (read once per pass, not per target); none
        when it has no policy or a broken one."""
        try:
            policy = policy_of(self.snap)
        except CfgctlError:
            return []
        return policy.freezes if policy is not None else []


class _Unopened(CfgctlError):
    """A secrets file of the target that no key of the agent opens."""


class Agent:
    def __init__(self, config: AgentConfig) -> None:
        check_targets(config)
        self.config = config
        state_dir = config.state_dir
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        telemetry.setup("cfgctl-agent", trace_dir=state_dir / "traces")
        self.state = AgentState.load(state_dir / "state.json")
        # The agent runs for months: its decrypted secrets and memos are bounded (LRU).
        self.session = Session(use_cache=False, decrypter=Decrypter(max_entries=1024))
        self.etcd_feed: EtcdFeed | None = None  # the feed, on an etcd source
        self.mirror: Feed
        if config.source.etcd is None:
            self.mirror = Mirror(state_dir / "mirror.git", config.source, self.session)
        else:
            from cfgctl.agent.etcdfeed import EtcdFeed  # etcd's client: only for an etcd source

            self.mirror = self.etcd_feed = EtcdFeed(
                config.source.etcd, config.targets, self.session, self.state
            )
        self.tailer: Tailer | None = None
        if config.publish is not None:
            from cfgctl.agent.tailer import Tailer  # etcd's client: only for a publishing agent

            self.tailer = Tailer(config.publish)
        self.backups = Backups(state_dir / "backups")
        self.audit = AuditLog(state_dir / "audit.jsonl")
        self.metrics = Metrics()
        self.deliverer = Deliverer(self.state, self.backups, self.audit, self.metrics)
        self.canary = CanaryGate(self.state, self.deliverer, self.audit, self.metrics)
        self.stop_requested = threading.Event()
        self.wake = threading.Event()
        self._pass_lock = threading.Lock()
        self._lock_fd: int | None = None
        if config.age_key_file is not None:
            os.environ["SOPS_AGE_KEY_FILE"] = str(config.age_key_file)
        for target in config.targets:
            self.metrics.target_state(target.name, self.state.target(target.name).state)

    # --- lifecycle ----------------------------------------------------------------------------

    def lock(self) -> None:
        """Hold `state_dir/agent.lock`: one agent per state folder. Then what an earlier holder
        killed mid-write left next to the targets is removed (`Deliverer.sweep`)."""
        fd = os.open(self.config.state_dir / "agent.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise EnvError(
                f"another agent is running with the state folder {self.config.state_dir}",
                hint="stop it first, or give this agent its own state_dir",
            ) from None
        self._lock_fd = fd
        for target in self.config.targets:
            self.deliverer.sweep(target)

    def close(self) -> None:
        """Let go of the state folder's lock and drop the decrypted values: the agent is done
        (the end of `once`, or of the daemon), and the process may go on without it."""
        if self.etcd_feed is not None:
            self.etcd_feed.close()
        if self.tailer is not None:
            self.tailer.etcd.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None
        self.session.close()

    def trigger(self) -> None:
        """Run a pass as soon as possible (a webhook arrived)."""
        self.wake.set()

    # --- the pass -----------------------------------------------------------------------------

    def run_pass(self) -> PassResult:
        with self._pass_lock:
            self.wake.clear()
            try:
                with telemetry.span("agent.pass") as span:
                    result = self._run_pass()
                    span.set("cfgctl.tip", result.tip or "")
                    span.set("cfgctl.applied", len(result.applied))
                    return result
            finally:
                # Decrypted values live for one pass: the files hold what the services need.
                self.session.decrypter.clear()

    def _run_pass(self) -> PassResult:
        self.metrics.count("passes")
        result = PassResult()
        for target in self.config.targets:  # deliveries cut off (kill -9) before anything else
            self.deliverer.recover(target)
        now = utc_iso(_now())
        self.state.remote.last_fetch = now
        try:
            tip = self.mirror.fetch()
            commit = self._commit(tip)
        except SourceError as exc:
            result.error = exc.message
            self.state.remote.ok, self.state.remote.error = False, exc.message
            self.metrics.remote_up = 0
            self.state.save()
            log.warning("fetch failed: %s", exc.message, extra={"fields": {"error": exc.message}})
            return result
        self.state.remote.ok, self.state.remote.error = True, None
        self.state.remote.last_success = now
        self.metrics.remote_up = 1
        self.state.tip = result.tip = tip
        if self.tailer is not None and isinstance(self.mirror, Mirror):
            self.tailer.publish(self.mirror, tip)  # the fleet's copy in etcd, when asked
        self._warn_unknown_windows(commit.snap)
        for wave, targets in self.config.waves():
            for target in targets:
                if self.stop_requested.is_set():
                    result.stopped = True
                    self.state.save()
                    return result
                outcome = self._reconcile(target, commit)
                getattr(result, outcome).append(target.name)
                self.metrics.target_state(target.name, self.state.target(target.name).state)
            if any(t.name in result.failed for t in targets):
                self._stop_later(wave, commit.sha, result, held=False)
                break
            if any(t.name in result.held for t in targets):
                # A wave still waiting (window, freeze, Deploy-After) holds the later ones: a
                # change reaches them only after it has run in the earlier waves.
                self._stop_later(wave, commit.sha, result, held=True)
                break
            if not self._gate_open(wave, targets, commit, result):
                break
        if result.ok:
            self.state.last_sync = utc_iso(_now())
            self.metrics.last_success = time.time()
        for target in self.config.targets:  # later waves held or blocked, a wave rolled back
            self.metrics.target_state(target.name, self.state.target(target.name).state)
        self.state.save()
        log.info(
            "pass at %s: %d applied, %d failed, %d held, %d unchanged",
            tip[:12],
            len(result.applied),
            len(result.failed),
            len(result.held),
            len(result.unchanged),
            extra={"fields": {"commit": tip, **result.to_dict()}},
        )
        return result

    def _commit(self, sha: str) -> _Commit:
        trailers = commit_trailers(self.mirror.message(sha))
        deploy_after = None
        if "deploy-after" in trailers:
            try:
                deploy_after = parse_instant(trailers["deploy-after"])
            except CfgctlError:
                log.warning("commit %s: unreadable Deploy-After trailer, ignored", sha[:12])
        emergency = trailers.get("emergency", "").lower() in ("true", "yes", "1")
        snap, when = self.mirror.snapshot(sha), self.mirror.commit_time(sha)
        published = getattr(self.mirror, "traceparent", None)  # etcd: the publish's span
        parent = (published(sha) if published else None) or trailers.get("traceparent")
        return _Commit(sha, snap, when, deploy_after, emergency, parent)

    def _warn_unknown_windows(self, snap: Snapshot) -> None:
        try:
            known = set(snap.manifest.environments)
        except CfgctlError:
            return
        for env in sorted(set(self.config.windows) - known):
            log.warning(
                "windows: %r is no environment of cfgctl.yaml: its windows hold nothing", env
            )

    def _gate_open(
        self, wave: int, targets: list[Target], commit: _Commit, result: PassResult
    ) -> bool:
        """The canary gate after `wave` (cfgctl.agent.canary): True when later waves may go."""
        if not any(t.analysis is not None for t in targets):
            return True  # no canary in this wave: nothing to look up at every pass
        later = [t for n, ts in self.config.waves() if n > wave for t in ts]
        verdict = self.canary.check(wave, targets, later, commit.sha, commit.snap, time.time())
        if verdict.state == "open":
            return True
        if verdict.state == "failed":  # the wave was rolled back: its targets failed
            for bucket in (result.applied, result.unchanged):
                moved = [t.name for t in targets if t.name in bucket]
                bucket[:] = [name for name in bucket if name not in moved]
                result.failed += moved
        if verdict.until is not None:
            result.wake_at = verdict.until
        self._stop_later(
            wave, commit.sha, result, held=verdict.state == "waiting", why=verdict.reason
        )
        return False

    def _stop_later(
        self, wave: int, sha: str, result: PassResult, *, held: bool, why: str = ""
    ) -> None:
        for later, targets in self.config.waves():
            if later <= wave:
                continue
            for target in targets:
                ts = self.state.target(target.name)
                if ts.applied == sha:
                    continue
                if held:
                    self._set(ts, "waiting", why or f"waiting for wave {wave}, which is held")
                    result.held.append(target.name)
                else:
                    why = why or f"wave {wave} failed at {sha[:12]}"
                    self._set(ts, "blocked", f"{why}: not delivered")
                    result.blocked.append(target.name)

    def _set(self, ts: TargetState, state: str, error: str | None) -> None:
        self.deliverer.set(ts, state, error)

    # --- one target ---------------------------------------------------------------------------

    def _reconcile(self, target: Target, commit: _Commit) -> str:
        ts = self.state.target(target.name)
        sha = commit.sha
        try:
            current = digest_of(target.path)  # what is on disk, compared with the state
        except DeliveryError as exc:
            return self.deliverer.fail(target, ts, sha, exc.message, retry=True)
        drifted = ts.digest is not None and current != ts.digest
        if ts.applied == sha and not drifted and ts.digest is not None:
            if ts.state == "drifted":  # the hand edit was undone
                self.deliverer.in_place(ts, sha, ts.digest)
            return "unchanged"
        if ts.failed == sha:
            return "failed"  # not retried until a newer commit arrives
        if drifted:
            self._report_drift(target, ts, current)
            if ts.applied == sha and self.config.drift == "report":
                return "drifted"
        try:
            self._check_names(target, commit.snap)
            data, secret = self._render(target, commit.snap)
        except _Unopened as exc:
            return self.deliverer.fail(target, ts, sha, exc.message, retry=True)
        except CfgctlError as exc:
            hint = f" ({exc.hint})" if exc.hint else ""
            return self._refuse(target, ts, commit, exc.message + hint)
        if current == content_digest(data):
            # In place already: recorded as in sync, nobody is disturbed.
            self.deliverer.in_place(ts, sha, current)
            return "unchanged"
        held = self._held_until(target, commit)
        if held is not None:
            ts.held_until = utc_iso(held[0])
            self._set(ts, "waiting", f"held until {utc_iso(held[0])}: {held[1]}")
            return "held"
        when, parent = commit.time, commit.traceparent  # the commit's trace is continued
        outcome = self.deliverer.apply(
            target, ts, sha, data, secret=secret, committed=when, traceparent=parent
        )
        if outcome == "applied":
            self.canary.start(target, ts, sha, time.time())
        return outcome

    def _report_drift(self, target: Target, ts: TargetState, current: str | None) -> None:
        """The file is not what the agent wrote: reported (once per edit), counted, and written
        back unless agent.yaml says `drift: report`."""
        correct = self.config.drift != "report"
        what = "removed" if current is None else "edited by hand"
        error = f"{target.path} was {what} since commit {(ts.applied or '?')[:12]}" + (
            ": written back" if correct else ": left as it is (drift: report)"
        )
        if not correct:
            self._set(ts, "drifted", error)
        if ts.drift == (current or "absent"):
            return
        ts.drift = current or "absent"
        self.metrics.count("drifts")
        self.audit.record("drift", target.name, ts.applied, None, "drifted", digest=current)
        log.warning("%s: %s", target.name, error)
        self.state.save()

    def _check_names(self, target: Target, snap: Snapshot) -> None:
        """The target's service and environment exist in cfgctl.yaml at this commit."""
        try:
            snap.manifest.service(target.service)
            snap.manifest.env(target.env)
        except InputError as exc:
            raise InputError(
                f"{target.origin}: {exc.message} in cfgctl.yaml", hint=exc.hint
            ) from None

    def _render(self, target: Target, snap: Snapshot) -> tuple[bytes, bool]:
        rendered = snap.render(target.service, target.env)
        if rendered.encrypted:
            files = ", ".join(layer.path for layer in rendered.encrypted)
            raise _Unopened(
                f"no key opens {files}: not delivered (ciphertext is no configuration)",
                hint="give the agent an age key of the environment's recipients (age_key_file)",
            )
        problems = validate_pair(snap, target.service, target.env, rendered)
        errors = [d for d in problems if d.severity == "error"]
        if errors:
            # Keys and places only: the agent's logs and audit never hold configuration values.
            places = ", ".join(f"{d.path or '(top)'} at {d.location}" for d in errors[:3])
            more = f" and {len(errors) - 3} more" if len(errors) > 3 else ""
            raise CfgctlError(
                f"invalid: {places}{more}",
                hint=f"`cfgctl validate --rev {snap.commit[:12] if snap.commit else 'HEAD'}` "
                "shows the details",
            )
        secret = bool(rendered.secret_paths) or any(layer.secret for layer in rendered.layers)
        return serialize(rendered.data, target.format), secret

    def _refuse(self, target: Target, ts: TargetState, commit: _Commit, why: str) -> str:
        ts.failed = commit.sha
        self._set(ts, "invalid", f"commit {commit.sha[:12]} refused: {why}")
        self.metrics.count("refusals")
        self.metrics.count("failures")
        self.audit.record("refuse", target.name, ts.applied, commit.sha, "invalid", error=why)
        log.error("%s: commit %s refused: %s", target.name, commit.sha[:12], why)
        return "failed"

    def _held_until(self, target: Target, commit: _Commit) -> tuple[datetime, str] | None:
        if commit.emergency:
            return None
        now = _now()
        holds: list[tuple[datetime, str]] = []
        if commit.deploy_after is not None and commit.deploy_after > now:
            holds.append((commit.deploy_after, "Deploy-After trailer"))
        opening = next_opening(self.config.windows_for(target.env, commit.snap.manifest), now)
        if opening is not None:
            holds.append((opening, f"maintenance window of {target.env}"))
        for freeze in commit.freezes:
            if freeze.active(now) and freeze.covers(target.service, target.env):
                holds.append((freeze.end, "change freeze of policy.yaml"))
        return max(holds) if holds else None
