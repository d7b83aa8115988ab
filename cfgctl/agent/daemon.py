"""`cfgctl agent run`: the reconcile loop, its HTTP endpoints and a clean stop.

A pass runs at start, then after every `poll_interval` or as soon as a webhook arrives.

SIGTERM (or SIGINT) lets the current target finish, saves the state and exits 0, within the
grace period (`GRACE_PERIOD`, `cfgctl agent run --grace-period`): when the target is not done
by then, what runs is ended (a command with its process group, an HTTP call cut off), the
target stays marked in flight (it is reloaded and checked again at the next start), the state
is saved and the agent exits 0. A second signal ends it at once the same way. Should anything
still hold the agent `HARD_MARGIN` seconds after the grace period (a fetch that does not
return), it exits 1 at once: every step is in state.json already, as after `kill -9`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import signal
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

from cfgctl.agent.config import AgentConfig
from cfgctl.agent.preflight import check_at_start
from cfgctl.agent.probes import STOPPING, Aborted
from cfgctl.agent.reconcile import Agent, PassResult
from cfgctl.agent.report import Reporter
from cfgctl.agent.server import AgentServer
from cfgctl.errors import CfgctlError, EnvError
from cfgctl.repo.fsutil import atomic_write
from cfgctl.repo.timespec import utc_iso

__all__ = ["GRACE_PERIOD", "agent_id", "run_daemon", "run_once"]

log = logging.getLogger("cfgctl.agent")

GRACE_PERIOD = 10.0  # seconds from SIGTERM to exit, at most (plus HARD_MARGIN if stuck)
HARD_MARGIN = 2.0


class _Stopper:
    """SIGTERM/SIGINT: stop after the current target, or cut it off at the grace period."""

    def __init__(self, agent: Agent, grace: float) -> None:
        self.agent = agent
        self.grace = grace
        self.signalled = False
        self._timers: list[threading.Timer] = []

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.signalled:
            log.info("%s again: stopping now", name)
            self._abort()
            return
        self.signalled = True
        log.info("%s: finishing the current target, then stopping (at most %g s)", name, self.grace)
        self.agent.stop_requested.set()
        self.agent.wake.set()
        self._later(self.grace, self._abort)

    def _later(self, seconds: float, action: Callable[[], None]) -> None:
        timer = threading.Timer(seconds, action)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def cancel(self) -> None:
        """Stopped in time: no cut-off, no hard exit."""
        for timer in self._timers:
            timer.cancel()

    def _abort(self) -> None:
        STOPPING.abort()
        self._later(HARD_MARGIN, self._exit_now)

    def _exit_now(self) -> None:
        log.error("still not stopped %g s after the grace period: exiting now", HARD_MARGIN)
        logging.shutdown()
        os._exit(1)


def _serve(agent: Agent, config: AgentConfig) -> AgentServer | None:
    if config.listen is None:
        return None
    try:
        server = AgentServer(agent, config.listen).start()
    except OSError as exc:
        raise EnvError(
            f"cannot listen on {config.listen[0]}:{config.listen[1]}: {exc.strerror}",
            hint="choose a free address in webhook.listen / http.listen",
        ) from None
    # The address actually bound (port 0 picks one): for scripts and tests.
    atomic_write(config.state_dir / "agent.addr", (server.address + "\n").encode(), mode=0o644)
    log.info("serving /healthz, /status, /metrics on %s", server.address)
    return server


def _reporter(agent: Agent, config: AgentConfig) -> Reporter | None:
    """The reports to a cfgctl server (agent.yaml `report:`), when configured."""
    spec = config.report
    if spec is None:
        return None
    if spec.token_env and not os.environ.get(spec.token_env):
        raise EnvError(
            f"{spec.token_env} is not set: the token of report.token_env",
            hint=f"export {spec.token_env} with a token from `cfgctl serve token create`",
        )
    from cfgctl.agent.server import status_document

    host = urllib.parse.urlsplit(spec.url).hostname or ""
    if spec.token_env and spec.url.startswith("http://") and not _loopback(host):
        log.warning("report.url is plain http to %s: the token travels in clear", host)
    return Reporter(spec, lambda: status_document(config, agent.state))


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def agent_id(config: AgentConfig) -> str:
    """The agent's name in reports: report.id, else the host's name and a digest of its state
    folder (two agents of one host apart)."""
    if config.report is not None:
        return config.report.id
    folder = hashlib.sha256(str(config.state_dir.resolve()).encode()).hexdigest()[:8]
    return f"{socket.gethostname()}-{folder}"


def _report_to_etcd(agent: Agent, config: AgentConfig, result: PassResult) -> None:
    """On an etcd source, the agent's report goes there too (cfgctl fleet status)."""
    feed = agent.etcd_feed
    if feed is None:
        return
    from cfgctl.agent.server import status_document

    name = agent_id(config)
    document = {
        "agent": name,
        "time": utc_iso(datetime.now(UTC)),
        "pass": result.to_dict(),
        **status_document(config, agent.state),
    }
    feed.report(name, document, ttl=3 * config.source.poll_interval.total_seconds())


def run_once(config: AgentConfig) -> PassResult:
    agent = Agent(config)
    try:
        agent.lock()
        check_at_start(config, agent.mirror)
        reporter = _reporter(agent, config)
        result = agent.run_pass()
        _report_to_etcd(agent, config, result)
        if reporter is not None:
            reporter.submit(result.to_dict())
            reporter.close()
        return result
    finally:
        agent.close()


def _check_webhook_secret(config: AgentConfig) -> None:
    hook = config.webhook
    if hook is not None and not os.environ.get(hook.secret_env):
        raise EnvError(
            f"{hook.secret_env} is not set: the webhook's secret (webhook.secret_env) is needed "
            "to check X-Hub-Signature-256",
            hint=f"export {hook.secret_env} with the secret configured in GitHub's webhook",
        )


def _loop(
    agent: Agent,
    config: AgentConfig,
    on_pass: Callable[[PassResult], None] | None,
    reporter: Reporter | None,
) -> None:
    interval = config.source.poll_interval.total_seconds()
    while not agent.stop_requested.is_set():
        wait = interval
        try:
            result = agent.run_pass()
        except CfgctlError as exc:  # the files stay as they are; the next pass tries again
            log.error("pass failed: %s", exc.message)
        except Exception:  # a bug must not stop delivery for good: logged, retried
            log.exception("pass failed (a bug in cfgctl; please report it)")
        else:
            _report_to_etcd(agent, config, result)
            if on_pass is not None:
                on_pass(result)
            if reporter is not None:
                reporter.submit(result.to_dict())
            if result.wake_at is not None:  # a canary analysis is due before the next poll
                wait = min(interval, max(0.05, result.wake_at - time.time()))
        if agent.stop_requested.is_set():
            break
        agent.wake.wait(wait)


def run_daemon(
    config: AgentConfig,
    on_pass: Callable[[PassResult], None] | None = None,
    grace: float = GRACE_PERIOD,
) -> None:
    _check_webhook_secret(config)
    agent = Agent(config)
    try:  # refused at start or stopped: nothing holds the state folder any more
        agent.lock()
        check_at_start(config, agent.mirror)
        _serve_until_stopped(agent, config, on_pass, grace)
    finally:
        agent.close()


def _serve_until_stopped(
    agent: Agent,
    config: AgentConfig,
    on_pass: Callable[[PassResult], None] | None,
    grace: float,
) -> None:
    reporter = _reporter(agent, config)
    STOPPING.reset()
    stopper = _Stopper(agent, grace)
    previous = {s: signal.signal(s, stopper.on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    server = _serve(agent, config)
    feed = agent.etcd_feed
    if feed is not None:
        feed.watch(agent.wake)  # a new head wakes the loop at once
    try:
        _loop(agent, config, on_pass, reporter)
    except Aborted:
        log.warning(
            "stopped at the end of the grace period (%g s) in the middle of a delivery: "
            "it is reloaded and checked again at the next start",
            grace,
        )
    finally:
        if server is not None:
            server.stop()
        if feed is not None:
            feed.close()  # its watch stopped before the state is saved
        agent.state.save()
        if reporter is not None:
            reporter.close(timeout=min(2.0, reporter.spec.timeout))
        stopper.cancel()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("stopped")
