"""One trace through etcd: the commit (`cfgctl set --commit`), its publish (`fleet.publish`,
named by the head document), the agent on an etcd source continuing it, and `cfgctl trace`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pygit2
import pytest

from cfgctl.agent.windows import commit_trailers
from cfgctl.fleet.etcd import Etcd
from cfgctl.telemetry import Traceparent
from tests.support.agentworld import AgentWorld
from tests.support.etcd import EtcdCluster
from tests.support.spans import spans_in


@pytest.fixture
def world(tmp_path: Path) -> AgentWorld:
    return AgentWorld.create(tmp_path, processes=True)  # span files written as processes end


# A service on watch_etcd: its callback records the trace it runs in.
SERVICE = textwrap.dedent(
    """
    import json, sys
    from opentelemetry import trace
    from pydantic import BaseModel, ConfigDict
    from cfgctl.sdk import watch_etcd

    class Db(BaseModel):
        model_config = ConfigDict(frozen=True)
        pool_size: int

    class Settings(BaseModel):
        model_config = ConfigDict(frozen=True)
        db: Db

    seen = []

    def changed(old, new, keys):
        ctx = trace.get_current_span().get_span_context()
        seen.append(format(ctx.trace_id, "032x"))

    endpoints, prefix = json.loads(sys.argv[1]), sys.argv[2]
    with watch_etcd(endpoints, "payments", "prod", Settings, prefix=prefix, on_change=changed) as w:
        print("ready", flush=True)
        w.wait_for_reload(timeout=30)
    print(seen[0] if seen else "no-callback", flush=True)
    """
)


def test_one_trace_from_the_commit_through_etcd_to_the_agent(
    world: AgentWorld, cluster: EtcdCluster, prefix: str
) -> None:
    hosts = world.root / "hosts"
    editor = {"CFGCTL_TRACE_DIR": str(hosts / "laptop")}
    repo = str(world.repo.workdir)
    args = ["-C", repo, "set", "payments", "db.pool_size", "44", "--env", "prod", "--commit"]
    assert world.cli(*args, env=editor).returncode == 0
    head = world.repo.repo.head.peel(pygit2.Commit)
    trailer = Traceparent.parse(commit_trailers(head.message).get("traceparent"))
    assert trailer is not None
    ci = {"CFGCTL_TRACE_DIR": str(hosts / "ci")}
    endpoints = ",".join(cluster.endpoints)
    published = world.cli(
        "-C", repo, "fleet", "publish", "--etcd", endpoints, "--prefix", prefix, env=ci
    )
    assert published.returncode == 0, published.stderr
    target = world.root / "out" / "payments.yaml"
    world.write_config(
        "source:\n"
        f"  etcd: {{endpoints: {json.dumps(cluster.endpoints)}, prefix: {prefix}, env: prod}}\n"
        f"state_dir: {world.state_dir}\n"
        f"targets:\n  - {{service: payments, env: prod, path: {target}, format: yaml}}\n"
    )
    assert world.once().returncode == 0 and "pool_size: 44" in target.read_text()

    spans = spans_in(hosts, world.state_dir / "traces")
    ours = {s["name"]: s for s in spans if s["trace_id"] == trailer.trace_id}
    publish = ours["fleet.publish"]
    assert publish["parent_id"] == trailer.span_id and publish["service"] == "cfgctl-cli"
    assert publish["attributes"]["cfgctl.commit"] == str(head.id)
    assert ours["agent.apply"]["parent_id"] == publish["span_id"]  # the publish is continued
    stored = json.loads(Etcd(cluster.endpoints).range(f"{prefix}/v1/head").kvs[0].value)
    assert stored["traceparent"] == f"00-{trailer.trace_id}-{publish['span_id']}-01"

    shown = world.cli("trace", str(head.id)[:8], "--dir", str(hosts), "--dir", str(world.state_dir))
    assert shown.returncode == 0, shown.stderr
    rows = shown.stdout.splitlines()
    order = [
        next(i for i, row in enumerate(rows) if name in row)
        for name in ("cfgctl set", "fleet.publish", "agent.apply", "agent.health")
    ]
    assert order == sorted(order), shown.stdout

    # a service on watch_etcd runs its callback in the trace of the next commit
    service = subprocess.Popen(
        [sys.executable, "-c", SERVICE, json.dumps(cluster.endpoints), prefix],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "CFGCTL_TRACE_DIR": str(hosts / "app"), "OTEL_SERVICE_NAME": "payments"},
    )
    try:
        assert service.stdout is not None and service.stdout.readline().strip() == "ready"
        args[5] = "45"
        assert world.cli(*args, env=editor).returncode == 0
        again = world.cli("-C", repo, "fleet", "publish", "--etcd", endpoints, "--prefix", prefix)
        assert again.returncode == 0, again.stderr
        seen, _ = service.communicate(timeout=30)
    finally:
        service.kill()
    second = Traceparent.parse(
        commit_trailers(world.repo.repo.head.peel(pygit2.Commit).message).get("traceparent")
    )
    assert second is not None and seen.strip() == second.trace_id
    reloads = [s for s in spans_in(hosts / "app") if s["name"] == "sdk.reload"]
    assert reloads and reloads[0]["service"] == "payments"
    head_now = json.loads(Etcd(cluster.endpoints).range(f"{prefix}/v1/head").kvs[0].value)
    assert reloads[0]["parent_id"] == head_now["traceparent"].split("-")[2]  # the publish's span
