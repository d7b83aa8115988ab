"""`cfgctl deploy render`: the deployment files of one agent.yaml.

    rendered = render("systemd", Path("deploy/agent.example.yaml"), Options())
    rendered.name, rendered.text          # cfgctl-agent.service and its text
    write(Path("deploy/systemd"), rendered)

agent.yaml is read and checked as `cfgctl agent run` reads it (an InputError at its file:line);
its paths must be absolute, since the files are installed elsewhere than where it is rendered.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfgctl.agent.config import load_agent_config
from cfgctl.deploy import kubernetes, systemd
from cfgctl.deploy.options import Options
from cfgctl.errors import InputError, Location
from cfgctl.repo.fsutil import atomic_write
from cfgctl.repo.yamlio import Document, parse

__all__ = ["KINDS", "Rendered", "render", "write"]

# --for -> the file it renders.
KINDS = {
    "systemd": "cfgctl-agent.service",
    "kubernetes": "cfgctl-agent-daemonset.yaml",
    "sidecar": "cfgctl-agent-sidecar.yaml",
}


@dataclass(frozen=True)
class Rendered:
    name: str
    text: str


def _paths(data: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """The paths of agent.yaml that name files on the host, by where they are written."""
    for key in ("state_dir", "age_key_file"):
        if key in data:
            yield (key,), data[key]
    if "ssh_key" in data.get("source", {}):
        yield ("source", "ssh_key"), data["source"]["ssh_key"]
    for i, target in enumerate(data.get("targets", [])):
        yield ("targets", i, "path"), target["path"]
        if "pidfile" in target.get("reload", {}):
            yield ("targets", i, "reload", "pidfile"), target["reload"]["pidfile"]


def _require_absolute(doc: Document) -> None:
    for where, value in _paths(doc.data):
        if not str(value).startswith("/"):
            raise InputError(
                f"{'.'.join(map(str, where))}: {value!r} is relative to agent.yaml's folder, "
                "which is not where the rendered files install it",
                location=doc.location(where),
                hint="write an absolute path (e.g. /var/lib/cfgctl-agent, /etc/payments/...)",
            )


def render(kind: str, agent_yaml: Path, options: Options) -> Rendered:
    """The file of `kind` (systemd, kubernetes, sidecar) for the agent of `agent_yaml`."""
    if kind not in KINDS:
        raise InputError(
            f"unknown --for {kind!r}",
            hint="use --for " + ", --for ".join(KINDS),
        )
    try:
        raw = agent_yaml.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the agent configuration: {exc.strerror}",
            location=Location(str(agent_yaml)),
            hint="pass the path of an agent.yaml (docs/agent.md)",
        ) from None
    config = load_agent_config(agent_yaml)  # every mistake of agent.yaml, at its line
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(
            "agent.yaml is not UTF-8 text",
            location=Location(str(agent_yaml)),
            hint="save it as UTF-8: it goes into a ConfigMap as it is",
        ) from None
    _require_absolute(parse(raw, str(agent_yaml)))
    if kind == "systemd":
        return Rendered(KINDS[kind], systemd.agent_unit(config, options))
    build = kubernetes.daemonset if kind == "kubernetes" else kubernetes.sidecar
    return Rendered(KINDS[kind], kubernetes.dump(build(config, text, options), kind))


def write(out: Path, rendered: Rendered) -> Path:
    """Write the file into the folder `out` (made when missing), atomically."""
    path = out / rendered.name
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write(path, rendered.text.encode(), mode=0o644)
    except OSError as exc:
        raise InputError(
            f"cannot write {path}: {exc.strerror}",
            location=Location(str(out)),
            hint="give --out a folder you may write",
        ) from None
    return path
