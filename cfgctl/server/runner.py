"""Start the server: bind the socket, say where, run uvicorn with one or more workers.

    run_server(settings, "127.0.0.1", 0, workers=1, on_bound=print)   # blocks until SIGTERM

The socket is bound here, before uvicorn starts, so that port 0 has its real port to report
and a busy address is one clear error (exit 3). The workers start the app from an import string
(`cfgctl.server.app:app_from_env`) with the settings in CFGCTL_SERVE_SETTINGS; each watches the
branch and keeps its answers on its own.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import socket
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from cfgctl.errors import EnvError, InputError
from cfgctl.server.settings import ENV_VAR, ServerSettings, is_loopback

__all__ = ["bind", "run_server"]

log = logging.getLogger("cfgctl.server")
GRACE_SECONDS = 5  # held long polls are cut after this on SIGTERM


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on (host, port); EnvError when the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say so, and without
    # it a keep-alive client waits 40 ms (delayed ACK) for every response body.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise EnvError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="choose a free address with --listen, or port 0 for any free port",
        ) from None
    sock.set_inheritable(True)  # the worker processes serve it
    return sock


_TOKEN = re.compile(r"cfgctl_[0-9a-f]{12}_[A-Za-z0-9_-]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")  # OIDC bearers
_SECRET_PARAM = re.compile(
    r"((?:^|[?&])(?:access_?token|token|api_?key|key|secret|password|passwd)=)[^&#]*", re.I
)


class RedactQuery(logging.Filter):
    """The access log never shows a credential a client put in a URL (an API token pasted into
    `?access_token=`): tokens, JWTs and the values of token-, key-, secret- and password-named
    query parameters become `***`; the rest of the line stays as uvicorn writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_redact(a) if isinstance(a, str) else a for a in args)
        return True


def _redact(text: str) -> str:
    if "=" not in text and "cfgctl_" not in text and "eyJ" not in text:
        return text  # most lines: nothing a pattern could match
    return _SECRET_PARAM.sub(r"\1***", _JWT.sub("***", _TOKEN.sub("cfgctl_***", text)))


def _log_config(default: dict[str, Any]) -> dict[str, Any]:
    """uvicorn's logging with every line on stderr: its access log goes to stdout by default,
    where the bound address is the one line a script reads (and a pipe nobody reads fills up
    and stops the server); credentials in a URL redacted (`RedactQuery`)."""
    config = copy.deepcopy(default)
    config.setdefault("filters", {})["redact_query"] = {"()": RedactQuery}
    for handler in config["handlers"].values():
        handler["stream"] = "ext://sys.stderr"
        handler.setdefault("filters", []).append("redact_query")
    return config


def _check(settings: ServerSettings, host: str) -> str:
    """Refuse what cannot be served before binding (no auth off loopback, a bad repository or
    branch); the branch to serve."""
    from cfgctl.server.access import security_for
    from cfgctl.server.repository import ServedRepo

    if settings.insecure_local and not is_loopback(host):
        raise InputError(
            f"--insecure-local serves anonymous requests; it listens on loopback only, not {host}",
            hint="listen on 127.0.0.1 or [::1], or drop --insecure-local to require API tokens",
        )
    if not settings.insecure_local and not is_loopback(host):
        log.warning(
            "serving on %s over plain HTTP: API tokens cross the network in clear; put a"
            " TLS-terminating proxy in front",
            host,
        )
    if settings.webhook_secret_env and not os.environ.get(settings.webhook_secret_env):
        raise EnvError(
            f"{settings.webhook_secret_env} is not set: the webhook's secret"
            " (--webhook-secret-env) is needed to check X-Hub-Signature-256",
            hint=f"export {settings.webhook_secret_env} with the secret set in the Git host's "
            "webhook",
        )
    security_for(settings)
    served = ServedRepo.open(settings)  # with --remote: fetched now, EnvError when it cannot be
    served.close()
    return served.branch


def run_server(
    settings: ServerSettings,
    host: str,
    port: int,
    *,
    workers: int,
    on_bound: Callable[[str, str], None],
    access_log: bool = True,
) -> None:
    """Serve until SIGINT or SIGTERM; `on_bound` gets the base URL and the branch served once
    the socket is bound."""
    import uvicorn

    branch = _check(settings, host)
    # The workers serve the branch resolved now, even if HEAD moves to another one later.
    settings = replace(settings, branch=branch)
    os.environ[ENV_VAR] = settings.to_env()
    config = uvicorn.Config(
        "cfgctl.server.app:app_from_env",
        factory=True,
        log_config=_log_config(uvicorn.config.LOGGING_CONFIG),
        workers=workers,
        lifespan="on",
        timeout_graceful_shutdown=GRACE_SECONDS,
        server_header=False,
        access_log=access_log,
    )
    sock = bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    on_bound(f"http://{shown}:{bound_port}", branch)
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])
