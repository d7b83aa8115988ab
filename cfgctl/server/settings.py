"""What one server serves and how: the repository, its branch, the limits of a read.

    settings = ServerSettings(repo=Path("cfg"), branch="main", insecure_local=True)
    settings = ServerSettings(repo=Path(), remote="https://git.example/cfg.git", branch="main")
    host, port = parse_listen("127.0.0.1:8080")

The settings cross into uvicorn's worker processes as JSON in one environment variable
(`to_env` / `from_env`): `--workers N` starts the app from an import string, not an object.
"""

from __future__ import annotations

import ipaddress
import json
import os
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path

from cfgctl.errors import InputError

__all__ = ["ENV_VAR", "ServerSettings", "is_loopback", "parse_listen", "secure_url_problem"]

ENV_VAR = "CFGCTL_SERVE_SETTINGS"


@dataclass(frozen=True)
class ServerSettings:
    """One server's settings; every limit has a default a test can shorten."""

    repo: Path  # the config repository (the folder holding cfgctl.yaml, or below it)
    branch: str | None = None  # the branch served; None: the one HEAD names at start
    # No authentication: anonymous reads, never a reveal, loopback only (security.py).
    insecure_local: bool = False
    # API tokens (tokens.db) and the audit log (audit.jsonl); None: statedir.state_dir().
    state_dir: Path | None = None
    poll_interval: float = 0.1  # seconds between two reads of the branch ref (one small file)
    max_wait: float = 120.0  # the longest a long poll is held, in seconds
    page_limit: int = 100  # items per page of a list when `limit` is not given
    max_page_limit: int = 1000
    render_cache: int = 4096  # rendered configurations kept, by (commit, service, env, view)
    max_body: int = 1 << 20  # the largest request body read (a patch), in bytes; 413 above
    # Remote mode (upstream.py): serve a bare clone of this Git URL, kept under the state
    # directory and fetched every `fetch_interval` seconds (and at once on a signed webhook
    # when `webhook_secret_env` names the variable holding its secret); `repo` is unused.
    remote: str | None = None
    fetch_interval: float = 30.0
    fetch_timeout: float = 60.0  # the whole of one fetch, in seconds
    webhook_secret_env: str | None = None
    # OIDC bearer tokens beside the API tokens (oidc.py): both or neither of issuer, audience.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_subject_claim: str = "sub"
    oidc_groups_claim: str = "groups"  # "": logins bring no groups
    oidc_leeway: float = 30.0  # seconds of clock skew on exp, nbf, iat
    oidc_timeout: float = 5.0  # seconds, for each connection to the issuer and read
    oidc_refetch_interval: float = 30.0  # the issuer's keys fetched at most once per this
    oidc_keys_max_age: float = 3600.0
    # The sync agent's audit log (its state_dir or audit.jsonl): which commit reached which
    # target when, for the analytics (analytics.py); None: no deliveries known.
    agent_audit: Path | None = None

    def __post_init__(self) -> None:
        if self.oidc_issuer is None and self.oidc_audience is None:
            return
        if self.oidc_issuer is None or not self.oidc_audience:
            raise InputError(
                "--oidc-issuer and --oidc-audience go together",
                hint="pass both: the issuer's URL and the audience its tokens name for cfgctl",
            )
        if self.insecure_local:
            raise InputError(
                "--oidc-issuer needs authentication, which --insecure-local turns off",
                hint="drop --insecure-local (and pass --state-dir for API tokens and the audit)",
            )
        problem = secure_url_problem(self.oidc_issuer)
        if problem is not None:
            raise InputError(
                f"--oidc-issuer {self.oidc_issuer!r}: {problem}",
                hint="pass the issuer's URL as its tokens' iss claim names it,"
                " e.g. https://keycloak.example.com/realms/acme",
            )
        if not self.oidc_subject_claim:
            raise InputError("--oidc-subject-claim is empty", hint="the default is sub")

    def to_env(self) -> str:
        data = asdict(self)
        data["repo"] = str(self.repo)
        data["state_dir"] = None if self.state_dir is None else str(self.state_dir)
        data["agent_audit"] = None if self.agent_audit is None else str(self.agent_audit)
        return json.dumps(data)

    @classmethod
    def from_env(cls, text: str | None = None) -> ServerSettings:
        raw = os.environ.get(ENV_VAR, "") if text is None else text
        try:
            data = json.loads(raw)
            data["repo"] = Path(data["repo"])
            if data.get("state_dir") is not None:
                data["state_dir"] = Path(data["state_dir"])
            if data.get("agent_audit") is not None:
                data["agent_audit"] = Path(data["agent_audit"])
            return cls(**data)
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"{ENV_VAR} holds no server settings",
                hint="start the server with `cfgctl serve`, which sets it",
            ) from exc


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:8080` for IPv6; port 0 picks a free one) as (host, port)."""
    host, sep, port_text = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise InputError(
            f"--listen {text!r} is not HOST:PORT",
            hint="write e.g. 127.0.0.1:8080, [::1]:8080, or 127.0.0.1:0 for a free port",
        )
    return host, int(port_text)


def secure_url_problem(url: str) -> str | None:
    """Why `url` may not be fetched for keys (None when it may): https, or http to loopback."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("http", "https") or not host:
        return "not an http(s) URL with a host"
    if parts.scheme == "http" and not is_loopback(host):
        return "plain http is accepted on loopback only (keys fetched in clear could be swapped)"
    return None


def is_loopback(host: str) -> bool:
    """Whether `host` reaches only this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
