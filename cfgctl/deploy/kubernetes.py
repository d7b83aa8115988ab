"""The agent's Kubernetes manifests, rendered from its agent.yaml: as a DaemonSet writing the
node's files, or as a sidecar writing an emptyDir its application container reads.

    docs = daemonset(config, agent_yaml_text, Options())   # [ConfigMap, DaemonSet]
    text = dump(docs)

agent.yaml itself is the ConfigMap's `agent.yaml`, mounted where `--config` reads it; the age
key comes from the Secret `cfgctl-age-key` (key `age.key`), the variables agent.yaml names
(tokens, the webhook secret) from the Secret `cfgctl-agent-env`. Every container runs as a
non-root user on a read-only root file system, without privilege escalation or capabilities,
under the runtime's seccomp profile; tests/deploy/ validates the output with kubernetes-validate.
"""

from __future__ import annotations

import io
import urllib.parse
from pathlib import Path
from typing import Any

import ruamel.yaml

from cfgctl.agent.config import AgentConfig
from cfgctl.deploy.options import HEADER, Options, target_folders
from cfgctl.errors import InputError, Location
from cfgctl.repo.yamlwrite import is_ambiguous

__all__ = ["daemonset", "dump", "sidecar"]

UID = 10001  # the image's user (Dockerfile)
NAME = "cfgctl-agent"
Doc = dict[str, Any]


def _labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "cfgctl"}


def _container_security() -> Doc:
    return {
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _pod_security() -> Doc:
    return {
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "fsGroup": UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _loopback(host: str | None) -> bool:
    host = None if host is None else host.strip("[]")
    return host is not None and (host in ("localhost", "::1") or host.startswith("127."))


def _probes(config: AgentConfig) -> Doc:
    """The container's port and probes on /healthz: an HTTP probe when the agent listens on
    every address, a command in the container when it listens on loopback only (the kubelet
    probes the pod's address)."""
    if config.listen is None or config.listen[1] == 0:
        return {}
    host, port = config.listen
    probe: Doc
    if _loopback(host):
        url = f"http://{host}:{port}/healthz"
        check = f"import urllib.request; urllib.request.urlopen('{url}', timeout=3)"
        probe = {"exec": {"command": ["python3", "-c", check]}}
    else:
        probe = {"httpGet": {"path": "/healthz", "port": port}}
    return {
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "livenessProbe": {**probe, "periodSeconds": 20, "timeoutSeconds": 5},
        "readinessProbe": {**probe, "periodSeconds": 10, "timeoutSeconds": 5},
    }


def _mount(name: str, path: Path | str, **extra: Any) -> Doc:
    return {"name": name, "mountPath": str(path), **extra}


def _config_volumes(
    config: AgentConfig, options: Options, config_map: str
) -> tuple[list[Doc], list[Doc]]:
    """agent.yaml from the ConfigMap, the age key and the SSH key from Secrets, /tmp."""
    volumes: list[Doc] = [
        {"name": "agent-yaml", "configMap": {"name": config_map}},
        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
    ]
    mounts = [
        _mount("agent-yaml", options.config_path, subPath="agent.yaml", readOnly=True),
        _mount("tmp", "/tmp"),
    ]
    secrets = [("age-key", "cfgctl-age-key", "age.key", config.age_key_file)]
    secrets.append(("ssh-key", "cfgctl-agent-ssh", "ssh-key", config.source.ssh_key))
    for name, secret, key, path in secrets:
        if path is None:
            continue
        volumes.append({"name": name, "secret": {"secretName": secret, "defaultMode": 0o440}})
        mounts.append(_mount(name, path, subPath=key, readOnly=True))
    return volumes, mounts


def _container(config: AgentConfig, options: Options, mounts: list[Doc]) -> Doc:
    return {
        "name": NAME,
        "image": options.image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["agent", "run", "--config", options.config_path],
        "envFrom": [{"secretRef": {"name": "cfgctl-agent-env", "optional": True}}],
        **_probes(config),
        "resources": {
            "requests": {"cpu": "50m", "memory": "128Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "securityContext": _container_security(),
        "volumeMounts": mounts,
    }


def _config_map(name: str, text: str) -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": _labels(NAME)},
        "data": {"agent.yaml": text},
    }


def _pod_meta(config: AgentConfig, name: str) -> Doc:
    meta: Doc = {"labels": _labels(name)}
    if config.listen is not None and config.listen[1] != 0 and not _loopback(config.listen[0]):
        meta["annotations"] = {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(config.listen[1]),
            "prometheus.io/path": "/metrics",
        }
    return meta


def _urls(config: AgentConfig) -> list[str]:
    urls = [t.reload.http for t in config.targets if t.reload and t.reload.http]
    return urls + [t.health.http for t in config.targets if t.health and t.health.http]


def daemonset(config: AgentConfig, text: str, options: Options) -> list[Doc]:
    """One agent per node, writing the node's files (hostPath) and keeping its state on the
    node, so that a restarted pod still has its backups. Services reloaded or probed on
    127.0.0.1 are the node's: the pod then shares the node's network."""
    for target in config.targets:
        if target.reload is not None and target.reload.signal is not None:
            raise InputError(
                f"target {target.name} is reloaded by a signal: an agent in a pod cannot signal "
                "the node's processes (it has no capabilities and its own process namespace)",
                location=Location(target.origin),
                hint="reload it with {http: URL} or {command: [...]}, or run the agent with "
                "systemd (--for systemd)",
            )
    volumes, mounts = _config_volumes(config, options, NAME)
    volumes.append(_host_dir("state", config.state_dir))
    mounts.append(_mount("state", config.state_dir))
    for i, folder in enumerate(target_folders(config)):
        volumes.append(_host_dir(f"target-{i}", folder))
        mounts.append(_mount(f"target-{i}", folder))
    spec: Doc = {
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": int(config.grace_period.total_seconds()) + 10,
        "securityContext": _pod_security(),
        "containers": [_container(config, options, mounts)],
        "volumes": volumes,
    }
    if any(_loopback(urllib.parse.urlsplit(url).hostname) for url in _urls(config)):
        spec = {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet", **spec}
    selector = {"matchLabels": {"app.kubernetes.io/name": NAME}}
    template = {"metadata": _pod_meta(config, NAME), "spec": spec}
    daemon = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": NAME, "labels": _labels(NAME)},
        "spec": {"selector": selector, "template": template},
    }
    return [_config_map(NAME, text), daemon]


def _host_dir(name: str, path: Path) -> Doc:
    """The node's folder, which must exist and be writable by UID: one the kubelet made would
    be root's, and the agent would fail on it later and less clearly."""
    return {"name": name, "hostPath": {"path": str(path), "type": "Directory"}}


def _app_name(config: AgentConfig) -> str:
    services = {t.service for t in config.targets}
    return services.pop() if len(services) == 1 else "app"


def sidecar(config: AgentConfig, text: str, options: Options) -> list[Doc]:
    """The application's Deployment with the agent beside it: each target's folder is an
    emptyDir the agent writes and the application reads; signals need the pod's processes
    shared (shareProcessNamespace) and both containers running as the same user."""
    name = _app_name(config)
    volumes, mounts = _config_volumes(config, options, f"{name}-{NAME}")
    volumes.append({"name": "state", "emptyDir": {}})
    mounts.append(_mount("state", config.state_dir))
    shared = target_folders(config)
    pidfiles = [t.reload.pidfile for t in config.targets if t.reload and t.reload.pidfile]
    for pidfile in pidfiles:
        if pidfile.parent not in shared:
            shared.append(pidfile.parent)
    app_mounts = []
    for i, folder in enumerate(shared):
        volumes.append({"name": f"shared-{i}", "emptyDir": {}})
        mounts.append(_mount(f"shared-{i}", folder))
        writes = any(p.parent == folder for p in pidfiles)  # the application writes its pid
        app_mounts.append(_mount(f"shared-{i}", folder, readOnly=not writes))
    app = {
        "name": name,
        "image": f"registry.example.com/{name}:CHANGE-ME",
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
        "securityContext": _container_security(),
        "volumeMounts": app_mounts,
    }
    spec: Doc = {
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": int(config.grace_period.total_seconds()) + 10,
        "securityContext": _pod_security(),
        "containers": [app, _container(config, options, mounts)],
        "volumes": volumes,
    }
    if pidfiles:
        spec = {"shareProcessNamespace": True, **spec}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": _labels(name)},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {"metadata": _pod_meta(config, name), "spec": spec},
        },
    }
    return [_config_map(f"{name}-{NAME}", text), deployment]


def _represent_str(representer: Any, data: str) -> Any:
    style = "|" if "\n" in data else ("'" if is_ambiguous(data) else None)
    return representer.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def dump(docs: list[Doc], kind: str) -> str:
    """The documents as one YAML stream (`kubectl apply -f`), multi-line strings as blocks."""
    yaml = ruamel.yaml.YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.width = 100
    yaml.representer.add_representer(str, _represent_str)
    yaml.representer.ignore_aliases = lambda *_: True
    stream = io.StringIO()
    yaml.dump_all(docs, stream)
    return HEADER.format(kind=kind, comment="#") + "---\n" + stream.getvalue()
