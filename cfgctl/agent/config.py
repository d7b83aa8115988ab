"""agent.yaml: what the sync agent delivers where, read and checked at start.

    config = load_agent_config(Path("agent.yaml"))     # InputError with file:line when wrong
    config.targets[0].path, config.windows_for("prod")

Relative paths (state_dir, target paths, pidfiles, a local source url) are relative to the
folder of agent.yaml.
"""

from __future__ import annotations

import signal
import socket
import urllib.parse
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from cfgctl.agent.fleetconfig import EtcdSource, PublishSpec, etcd_source, publish_spec
from cfgctl.agent.windows import Window, inherited_windows, parse_window
from cfgctl.errors import CfgctlError, CheckFailed, EnvError, InputError, Location
from cfgctl.repo.builtin import check_own_file
from cfgctl.repo.formats import Format
from cfgctl.repo.manifest import Manifest
from cfgctl.repo.timespec import parse_duration
from cfgctl.repo.yamlio import Document, parse

__all__ = [
    "MIN_POLL_INTERVAL",
    "AgentConfig",
    "Analysis",
    "EtcdSource",
    "Health",
    "PublishSpec",
    "Reload",
    "ReportSpec",
    "Source",
    "Target",
    "Webhook",
    "load_agent_config",
]


MIN_POLL_INTERVAL = timedelta(seconds=1)
MAX_ANALYSIS_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Source:
    url: str
    branch: str = "main"
    path: str = ""
    poll_interval: timedelta = timedelta(seconds=30)
    token_env: str | None = None
    username: str = "x-access-token"
    ssh_key: Path | None = None
    ssh_passphrase_env: str | None = None
    timeout: timedelta = timedelta(seconds=60)  # the total time of one fetch
    etcd: EtcdSource | None = None  # instead of a Git remote: url is then ""

    def describe(self) -> str:
        """Where the agent reads from, for logs and /status (no credential in it)."""
        return self.etcd.describe() if self.etcd is not None else self.url


@dataclass(frozen=True)
class Webhook:
    secret_env: str
    path: str = "/webhook"


@dataclass(frozen=True)
class Reload:
    signal: int | None = None
    pidfile: Path | None = None
    command: tuple[str, ...] = ()
    http: str | None = None
    timeout: timedelta = timedelta(seconds=10)

    def describe(self) -> str:
        if self.signal is not None:
            return f"signal {signal.Signals(self.signal).name} to the pid in {self.pidfile}"
        if self.command:
            return "command " + " ".join(self.command)
        return f"POST {self.http}"


@dataclass(frozen=True)
class Health:
    http: str | None = None
    command: tuple[str, ...] = ()
    timeout: timedelta = timedelta(seconds=10)
    interval: timedelta = timedelta(milliseconds=200)
    delay: timedelta = timedelta(0)


@dataclass(frozen=True)
class ReportSpec:
    """Where the agent reports after each pass (cfgctl.agent.report)."""

    url: str
    id: str
    token_env: str | None = None
    timeout: float = 5.0  # seconds


@dataclass(frozen=True)
class Analysis:
    """The canary gate of a target: after its wave is delivered and healthy, wait `window`,
    judge `metrics` (of the delivered commit's analytics.yaml; empty: all of them) as
    `cfgctl analyze impact` does, and roll the wave back on a regression (or, with
    `fail_on: inconclusive`, on anything short of a pass). An inconclusive judgement with
    `inconclusive: hold` is judged again over a longer stretch (2, 3... windows), up to
    `rounds` windows, and then holds the later waves until a newer commit; `proceed` goes on."""

    metrics: tuple[str, ...] = ()
    window: timedelta = timedelta(minutes=5)
    fail_on: str = "regression"  # or "inconclusive"
    inconclusive: str = "hold"  # or "proceed"
    rounds: int = 3


@dataclass(frozen=True)
class Target:
    service: str
    env: str
    path: Path
    format: Format = "yaml"
    wave: int = 1
    mode: int | None = None
    reload: Reload | None = None
    health: Health | None = None
    origin: str = "agent.yaml"  # where it is declared (file:line), for messages
    analysis: Analysis | None = None  # the canary gate after its wave

    @property
    def name(self) -> str:
        """`payments@prod:/etc/payments/config.yaml`: unique, used in state, logs and metrics."""
        return f"{self.service}@{self.env}:{self.path}"


@dataclass
class AgentConfig:
    path: Path
    source: Source
    state_dir: Path
    targets: list[Target]
    listen: tuple[str, int] | None = None
    webhook: Webhook | None = None
    age_key_file: Path | None = None
    windows: dict[str, list[Window]] = field(default_factory=dict)
    # Where some keys are written in agent.yaml (`age_key_file`, `windows.ENV`), for errors
    # found at start.
    origins: dict[str, Location] = field(default_factory=dict)
    drift: str = "correct"  # a file edited by hand: "correct" (written back) or "report"
    grace_period: timedelta = timedelta(seconds=10)  # SIGTERM's wait for the current target
    report: ReportSpec | None = None
    publish: PublishSpec | None = None  # a Git source's commits published to etcd (a tailer)

    def windows_for(self, env: str, manifest: Manifest | None = None) -> list[Window]:
        """The windows of `env`: its own, or (given the manifest of the commit being delivered)
        those of the nearest environment it inherits from that has some."""
        if manifest is None:
            return self.windows.get(env, [])
        return inherited_windows(self.windows, manifest, env)

    def waves(self) -> list[tuple[int, list[Target]]]:
        numbers = sorted({t.wave for t in self.targets})
        return [(n, [t for t in self.targets if t.wave == n]) for n in numbers]


def _listen(text: str, doc: Document, where: tuple[str | int, ...]) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    number = int(port)
    if number > 65535:
        raise InputError(
            f"port {number} is out of range", location=doc.location(where), hint="use 0-65535"
        )
    return host, number


def _duration(spec: dict[str, Any], key: str, default: timedelta) -> timedelta:
    return parse_duration(spec[key]) if key in spec else default


def _signal(name: str, doc: Document, where: tuple[str | int, ...]) -> int:
    full = name if name.startswith("SIG") else f"SIG{name}"
    try:
        return int(signal.Signals[full])
    except KeyError:
        raise InputError(
            f"unknown signal {name!r}",
            location=doc.location(where),
            hint="use a signal name such as HUP, USR1, USR2 or TERM",
        ) from None


def _path(base: Path, text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else (base / path)


def _analysis(spec: dict[str, Any], doc: Document, where: tuple[str | int, ...]) -> Analysis:
    window = _duration(spec, "window", timedelta(minutes=5))
    if window > MAX_ANALYSIS_WINDOW:
        raise InputError(
            f"{'.'.join(map(str, where))}.window: {spec['window']!r} would hold the later waves "
            f"for more than {MAX_ANALYSIS_WINDOW.days} days",
            location=doc.location((*where, "window")),
            hint="a canary window is minutes or hours (5m, 1h)",
        )
    if window <= timedelta(0):
        raise InputError(
            f"{'.'.join(map(str, where))}.window: {spec['window']!r} leaves nothing to judge",
            location=doc.location((*where, "window")),
            hint="give the canary a window such as 5m (the same stretch before is the baseline)",
        )
    return Analysis(
        tuple(spec.get("metrics", ())),
        window,
        spec.get("fail_on", "regression"),
        spec.get("inconclusive", "hold"),
        int(spec.get("rounds", 3)),
    )


def _wave_analysis(data: dict[str, Any], doc: Document, wave: int) -> Analysis | None:
    """The top-level `analysis:`, for a target of `wave` that declares none of its own."""
    spec = data.get("analysis")
    if spec is None or ("waves" in spec and wave not in spec["waves"]):
        return None
    return _analysis(spec, doc, ("analysis",))


def _target(
    spec: dict[str, Any], i: int, doc: Document, base: Path, data: dict[str, Any]
) -> Target:
    where: tuple[str | int, ...] = ("targets", i)
    reload = None
    if "reload" in spec:
        r = spec["reload"]
        reload = Reload(
            _signal(r["signal"], doc, (*where, "reload", "signal")) if "signal" in r else None,
            _path(base, r["pidfile"]) if "pidfile" in r else None,
            tuple(r.get("command", ())),
            r.get("http"),
            _duration(r, "timeout", timedelta(seconds=10)),
        )
    health = None
    if "health" in spec:
        h = spec["health"]
        health = Health(
            h.get("http"),
            tuple(h.get("command", ())),
            _duration(h, "timeout", timedelta(seconds=10)),
            _duration(h, "interval", timedelta(milliseconds=200)),
            _duration(h, "delay", timedelta(0)),
        )
    wave = int(spec.get("wave", 1))
    analysis = (
        _analysis(spec["analysis"], doc, (*where, "analysis"))
        if "analysis" in spec
        else _wave_analysis(data, doc, wave)
    )
    return Target(
        spec["service"],
        spec["env"],
        _path(base, spec["path"]),
        spec.get("format", "yaml"),
        wave,
        int(spec["mode"], 8) if "mode" in spec else None,
        reload,
        health,
        str(doc.location(where)),
        analysis,
    )


def _report(spec: dict[str, Any], doc: Document) -> ReportSpec:
    url = spec["url"]
    where = doc.location(("report", "url"))
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018  (a port out of range or not a number raises here)
    except ValueError as exc:
        raise InputError(
            f"report.url {url!r} is not a URL: {exc}",
            location=where,
            hint="e.g. https://cfg.internal",
        ) from None
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise InputError(
            "report.url holds credentials or a query",
            location=where,
            hint="give the server's base URL only; put the token in an environment variable "
            "named by report.token_env",
        )
    timeout = _duration(spec, "timeout", timedelta(seconds=5)).total_seconds()
    if timeout <= 0:
        raise InputError(
            "report.timeout: must be more than 0",
            location=doc.location(("report", "timeout")),
            hint="e.g. 5s",
        )
    return ReportSpec(url, spec.get("id") or socket.gethostname(), spec.get("token_env"), timeout)


def is_local_path(url: str) -> bool:
    """A path on this machine, not a URL (`https://`, `file://`) or scp-like (`git@host:x`)."""
    return "://" not in url and not url.startswith("git@") and ":" not in url.split("/")[0]


def _source_url(url: str, base: Path) -> str:
    if not is_local_path(url) or url.startswith("/"):
        return url
    return str((base / url).resolve())


def load_agent_config(path: Path) -> AgentConfig:
    """Read and check agent.yaml; every problem is an InputError at its file:line."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the agent configuration: {exc.strerror}",
            location=Location(str(path)),
            hint="pass --config PATH of an agent.yaml (see docs/agent.md)",
        ) from None
    doc = parse(text, str(path))
    problems = check_own_file(doc, "agent")
    if problems:
        problems.sort(key=lambda d: d.sort_key())
        first, rest = problems[0], problems[1:]
        more = "".join(f"\n{d.location}: error: {d.message}" for d in rest)
        raise InputError(f"{first.message}{more}", location=first.location, hint=first.hint)
    data = doc.data
    base = path.resolve().parent
    try:
        return _build(data, doc, path, base)
    except CfgctlError as exc:
        kind = type(exc)
        if exc.location is not None or kind not in (InputError, EnvError, CheckFailed, CfgctlError):
            raise
        # The same error, placed in agent.yaml: a new exception, the original as its cause.
        raise kind(exc.message, location=Location(str(path)), hint=exc.hint) from exc


def _source(data: dict[str, Any], doc: Document, base: Path) -> Source:
    src = data["source"]
    if ("url" in src) == ("etcd" in src):
        raise InputError(
            "source needs either url (a Git remote) or etcd (a cluster), and not both",
            location=doc.location(("source",)),
            hint="source: {url: https://git.example/config.git} or source: {etcd: {endpoints: "
            "[http://10.0.0.1:2379], env: prod}}",
        )
    etcd = etcd_source(src, doc, data) if "etcd" in src else None
    source = Source(
        _source_url(src["url"], base) if etcd is None else "",
        src.get("branch", "main"),
        str(src.get("path", "")).strip("/"),
        _duration(src, "poll_interval", timedelta(seconds=30)),
        src.get("token_env"),
        src.get("username", "x-access-token"),
        _path(base, src["ssh_key"]) if "ssh_key" in src else None,
        src.get("ssh_passphrase_env"),
        _duration(src, "timeout", timedelta(seconds=60)),
        etcd,
    )
    if source.timeout <= timedelta(0):
        raise InputError(
            f"source.timeout {src['timeout']!r} leaves no time for a fetch",
            location=doc.location(("source", "timeout")),
            hint="give it a duration such as 60s",
        )
    if source.poll_interval < MIN_POLL_INTERVAL:
        raise InputError(
            f"source.poll_interval {src['poll_interval']!r} is below 1s: the agent would fetch "
            "the remote without a pause",
            location=doc.location(("source", "poll_interval")),
            hint="use 1s or more (a webhook delivers a push at once)",
        )
    return source


def _build(data: dict[str, Any], doc: Document, path: Path, base: Path) -> AgentConfig:
    source = _source(data, doc, base)
    targets = [_target(spec, i, doc, base, data) for i, spec in enumerate(data["targets"])]
    seen: dict[Path, int] = {}
    for i, target in enumerate(targets):
        if target.path in seen:
            raise InputError(
                f"targets {seen[target.path]} and {i} write the same file {target.path}",
                location=doc.location(("targets", i, "path")),
                hint="give each target its own path",
            )
        seen[target.path] = i
    config = AgentConfig(path, source, _path(base, data["state_dir"]), targets)
    if "webhook" in data:
        hook = data["webhook"]
        config.webhook = Webhook(hook["secret_env"], hook.get("path", "/webhook"))
        config.listen = _listen(hook["listen"], doc, ("webhook", "listen"))
    if "http" in data:
        listen = _listen(data["http"]["listen"], doc, ("http", "listen"))
        if config.listen is not None and config.listen != listen:
            raise InputError(
                "webhook.listen and http.listen differ: the agent serves one address",
                location=doc.location(("http", "listen")),
                hint="drop http: the webhook's address serves /healthz, /status and /metrics too",
            )
        config.listen = listen
    if "report" in data:
        config.report = _report(data["report"], doc)
    if "publish" in data:
        config.publish = publish_spec(data["publish"], doc, source.etcd is not None)
    config.drift = data.get("drift", "correct")
    config.grace_period = _duration(data, "grace_period", timedelta(seconds=10))
    if "age_key_file" in data:
        config.age_key_file = _path(base, data["age_key_file"])
        config.origins["age_key_file"] = doc.location(("age_key_file",))
    for env, specs in (data.get("windows") or {}).items():
        config.origins[f"windows.{env}"] = doc.location(("windows", env))
        config.windows[env] = [
            parse_window(text, doc.location(("windows", env, j))) for j, text in enumerate(specs)
        ]
    return config
