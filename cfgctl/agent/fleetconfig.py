"""agent.yaml's etcd parts: `source: {etcd: {...}}` (the agent reads what is published there)
and `publish: {etcd: {...}}` (an agent on a Git source publishes each commit it fetches there,
the fleet's tailer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cfgctl.errors import InputError
from cfgctl.repo.timespec import parse_duration
from cfgctl.repo.yamlio import Document

__all__ = ["EtcdSource", "PublishSpec", "etcd_source", "publish_spec"]


@dataclass(frozen=True)
class EtcdSource:
    """`source: {etcd: {...}}`: the configuration published to etcd (`cfgctl fleet publish`)."""

    endpoints: tuple[str, ...]
    prefix: str = "/cfgctl"
    env: str = ""
    timeout: timedelta = timedelta(seconds=5)  # each request to a member

    def describe(self) -> str:
        return f"etcd {','.join(self.endpoints)} {self.prefix}"


@dataclass(frozen=True)
class PublishSpec:
    """`publish: {etcd: {endpoints, prefix}}`: each fetched commit goes to etcd too."""

    endpoints: tuple[str, ...]
    prefix: str = "/cfgctl"
    timeout: timedelta = timedelta(seconds=10)


def _cluster(spec: dict[str, Any], doc: Document, where: tuple[str, ...]) -> tuple[list[str], str]:
    from cfgctl.fleet.etcd import parse_endpoints
    from cfgctl.fleet.layout import Layout

    try:
        return parse_endpoints(list(spec["endpoints"])), Layout.of(
            spec.get("prefix", "/cfgctl")
        ).prefix
    except InputError as exc:
        raise InputError(exc.message, location=doc.location(where), hint=exc.hint) from None


def _timeout(spec: dict[str, Any], default: timedelta) -> timedelta:
    return parse_duration(spec["timeout"]) if "timeout" in spec else default


def etcd_source(src: dict[str, Any], doc: Document, data: dict[str, Any]) -> EtcdSource:
    spec = src["etcd"]
    endpoints, prefix = _cluster(spec, doc, ("source", "etcd"))
    envs = {t.get("env") for t in data["targets"] if isinstance(t, dict)}
    env = str(spec.get("env") or (envs.pop() if len(envs) == 1 else ""))
    for i, target in enumerate(data["targets"]):
        if isinstance(target, dict) and target.get("env") != env:
            raise InputError(
                f"target {i} is of environment {target.get('env')!r}, but source.etcd.env is "
                f"{env!r}",
                location=doc.location(("targets", i, "env")),
                hint="an agent on an etcd source delivers one environment: set source.etcd.env "
                "and give every target that env",
            )
    timeout = _timeout(spec, timedelta(seconds=5))
    return EtcdSource(tuple(endpoints), prefix, env, timeout)


def publish_spec(spec: dict[str, Any], doc: Document, etcd_source: bool) -> PublishSpec:
    if etcd_source:
        raise InputError(
            "publish: an agent on an etcd source has nothing to publish",
            location=doc.location(("publish",)),
            hint="publish from an agent whose source is the Git remote (or from CI)",
        )
    cluster = spec["etcd"]
    endpoints, prefix = _cluster(cluster, doc, ("publish", "etcd"))
    return PublishSpec(tuple(endpoints), prefix, _timeout(cluster, timedelta(seconds=10)))
