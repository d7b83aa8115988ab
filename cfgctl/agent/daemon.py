"""`cfgctl agent run`: the reconcile loop, its HTTP endpoints and a clean stop.

A pass runs at start, then after every `poll_interval` or as soon as a webhook arrives.
SIGTERM (or SIGINT) lets the current target finish, saves the state and exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from types import FrameType

from cfgctl.agent.config import AgentConfig
from cfgctl.agent.preflight import check_at_start
from cfgctl.agent.reconcile import Agent, PassResult
from cfgctl.agent.server import AgentServer
from cfgctl.errors import CfgctlError, EnvError
from cfgctl.repo.fsutil import atomic_write

__all__ = ["run_daemon", "run_once"]

log = logging.getLogger("cfgctl.agent")


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


def run_once(config: AgentConfig) -> PassResult:
    agent = Agent(config)
    agent.lock()
    check_at_start(config, agent.mirror)
    return agent.run_pass()


def _check_webhook_secret(config: AgentConfig) -> None:
    hook = config.webhook
    if hook is not None and not os.environ.get(hook.secret_env):
        raise EnvError(
            f"{hook.secret_env} is not set: the webhook's secret (webhook.secret_env) is needed "
            "to check X-Hub-Signature-256",
            hint=f"export {hook.secret_env} with the secret configured in GitHub's webhook",
        )


def run_daemon(config: AgentConfig, on_pass: Callable[[PassResult], None] | None = None) -> None:
    _check_webhook_secret(config)
    agent = Agent(config)
    agent.lock()
    check_at_start(config, agent.mirror)

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("%s: finishing the current target, then stopping", signal.Signals(signum).name)
        agent.stop_requested.set()
        agent.wake.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    server = _serve(agent, config)
    try:
        interval = config.source.poll_interval.total_seconds()
        while not agent.stop_requested.is_set():
            try:
                result = agent.run_pass()
            except CfgctlError as exc:  # the files stay as they are; the next pass tries again
                log.error("pass failed: %s", exc.message)
            except Exception:  # a bug must not stop delivery for good: logged, retried
                log.exception("pass failed (a bug in cfgctl; please report it)")
            else:
                if on_pass is not None:
                    on_pass(result)
            if agent.stop_requested.is_set():
                break
            agent.wake.wait(interval)
    finally:
        if server is not None:
            server.stop()
        agent.state.save()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("stopped")
