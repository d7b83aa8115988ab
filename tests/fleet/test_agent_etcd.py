"""The sync agent on an etcd source (`source: {etcd: ...}`), as real processes, against a real
three-member cluster: publish, watch, members lost, compaction, damaged or foreign heads."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cfgctl.fleet.etcd import Etcd, delete, put
from tests.support.agentworld import CFGCTL, AgentWorld, wait_for
from tests.support.etcd import EtcdCluster

pytestmark = pytest.mark.slow  # real agent processes against a real etcd cluster


@pytest.fixture
def world(tmp_path: Path) -> AgentWorld:
    return AgentWorld.create(tmp_path)


def _agent_yaml(world: AgentWorld, endpoints: list[str], prefix: str, timeout: str = "2s") -> Path:
    target = world.root / "out" / "payments.yaml"
    return world.write_config(
        "source:\n"
        f"  etcd: {{endpoints: {json.dumps(endpoints)}, prefix: {prefix}, env: prod, "
        f"timeout: {timeout}}}\n"
        "  poll_interval: 30s\n"
        f"state_dir: {world.state_dir}\n"
        "targets:\n"
        f"  - {{service: payments, env: prod, path: {target}, format: yaml}}\n"
    )


def _publish(world: AgentWorld, cluster: EtcdCluster, prefix: str) -> None:
    repo = str(world.repo.workdir)
    endpoints = ",".join(cluster.endpoints)
    result = world.cli("-C", repo, "fleet", "publish", "--etcd", endpoints, "--prefix", prefix)
    assert result.returncode == 0, result.stderr


def _delivered(world: AgentWorld, cluster: EtcdCluster, prefix: str) -> bytes:
    """The repository published, an agent on it run once: the file it delivered."""
    _publish(world, cluster, prefix)
    _agent_yaml(world, cluster.endpoints, prefix)
    result = world.once()
    assert result.returncode == 0, result.stderr
    return (world.root / "out" / "payments.yaml").read_bytes()


def _pool(world: AgentWorld) -> str:
    path = world.root / "out" / "payments.yaml"
    if not path.is_file():
        return ""
    return next((ln.strip() for ln in path.read_text().splitlines() if "pool_size" in ln), "")


def test_agent_once_delivers_what_is_published_and_reports_it(
    world: AgentWorld, cluster: EtcdCluster, prefix: str
) -> None:
    _publish(world, cluster, prefix)
    _agent_yaml(world, cluster.endpoints, prefix)
    result = world.once()
    assert result.returncode == 0, result.stderr
    assert _pool(world) == "pool_size: 40"
    # the same bytes the Git source delivers from the same commit
    git_world = world.root / "git"
    git_config = git_world / "agent.yaml"
    git_config.parent.mkdir()
    git_config.write_text(
        f"source: {{url: {world.repo.workdir}, branch: main}}\nstate_dir: {git_world / 'state'}\n"
        f"targets:\n  - {{service: payments, env: prod, path: {git_world / 'p.yaml'}, "
        "format: yaml}\n"
    )
    assert world.cli("agent", "once", "--config", str(git_config)).returncode == 0
    assert (git_world / "p.yaml").read_bytes() == (world.root / "out/payments.yaml").read_bytes()
    status = world.cli(
        "fleet", "status", "--etcd", ",".join(cluster.endpoints), "--prefix", prefix,
        "--format", "json",
    )  # fmt: skip
    assert status.returncode == 0, status.stdout + status.stderr
    report = json.loads(status.stdout)
    assert report["environments"][0]["env"] == "prod"
    assert report["environments"][0]["at_head"] == 1


def test_a_daemon_watching_etcd_applies_each_publish_and_survives_a_lost_member(
    world: AgentWorld, cluster: EtcdCluster, prefix: str
) -> None:
    _publish(world, cluster, prefix)
    _agent_yaml(world, cluster.endpoints, prefix)
    world.start()
    try:
        wait_for(lambda: _pool(world) == "pool_size: 40", 20, "the first delivery")
        world.edit("config/prod/payments.yaml", "pool_size: 40", "pool_size: 41")
        _publish(world, cluster, prefix)
        # poll_interval is 30 s: only the watch brings it this fast
        wait_for(lambda: _pool(world) == "pool_size: 41", 10, "the watched change")
        # the member the agent talks to (the first endpoint) is lost
        cluster.kill(cluster.members[0])
        cluster.wait_healthy()
        world.edit("config/prod/payments.yaml", "pool_size: 41", "pool_size: 42")
        survivors = [m.endpoint for m in cluster.members if m.running()]
        repo = str(world.repo.workdir)
        published = world.cli(
            "-C", repo, "fleet", "publish", "--etcd", ",".join(survivors), "--prefix", prefix
        )
        assert published.returncode == 0, published.stderr
        wait_for(lambda: _pool(world) == "pool_size: 42", 15, "the change after a member loss")
    finally:
        world.stop_all()
    applies = [
        json.loads(line)
        for line in (world.state_dir / "audit.jsonl").read_text().splitlines()
        if '"apply"' in line
    ]
    assert len(applies) == 3, applies  # nothing applied twice


def test_compaction_under_a_stopped_agent_loses_no_change(
    world: AgentWorld, cluster: EtcdCluster, prefix: str
) -> None:
    _delivered(world, cluster, prefix)
    for value in ("41", "42"):
        world.edit(
            "config/prod/payments.yaml", f"pool_size: {int(value) - 1}", f"pool_size: {value}"
        )
        _publish(world, cluster, prefix)
    etcd = Etcd(cluster.endpoints)
    etcd.compact(etcd.range(f"{prefix}/v1/head").revision)
    world.start()
    try:
        wait_for(lambda: _pool(world) == "pool_size: 42", 20, "the latest after compaction")
    finally:
        world.stop_all()


def test_a_half_published_or_damaged_head_is_never_applied(
    world: AgentWorld, cluster: EtcdCluster, prefix: str
) -> None:
    before = _delivered(world, cluster, prefix)
    world.edit("config/prod/payments.yaml", "pool_size: 40", "pool_size: 77")
    _publish(world, cluster, prefix)
    etcd = Etcd(cluster.endpoints)
    pair_key = f"{prefix}/v1/config/prod/payments"
    good = etcd.range(pair_key).kvs[0].value
    etcd.txn([delete(pair_key)])  # the head lists a pair that is not there
    missing = world.once()
    assert missing.returncode != 0 and "incompletely published" in missing.stderr
    assert (world.root / "out/payments.yaml").read_bytes() == before
    etcd.txn([put(pair_key, good.replace(b"77", b"78"))])  # edited by hand: digest broken
    damaged = world.once()
    assert damaged.returncode != 0 and "digest" in damaged.stderr
    assert (world.root / "out/payments.yaml").read_bytes() == before
    etcd.txn([put(f"{prefix}/v1/head", b'{"kind": "someone else"}')])
    foreign = world.once()
    assert foreign.returncode != 0 and "does not hold a cfgctl.head" in foreign.stderr
    assert "Traceback" not in missing.stderr + damaged.stderr + foreign.stderr
    assert (world.root / "out/payments.yaml").read_bytes() == before
    etcd.txn([put(pair_key, good)])
    etcd.txn([delete(f"{prefix}/v1/head")])
    _publish(world, cluster, prefix)
    assert world.once().returncode == 0 and _pool(world) == "pool_size: 77"


def test_an_unreachable_cluster_keeps_the_last_good_file(
    world: AgentWorld, cluster: EtcdCluster, prefix: str
) -> None:
    before = _delivered(world, cluster, prefix)
    _agent_yaml(world, ["http://127.0.0.1:9"], prefix, timeout="300ms")
    result = world.once()
    assert result.returncode == 3, result.stderr
    assert "no etcd member answered" in result.stderr and "Traceback" not in result.stderr
    assert (world.root / "out/payments.yaml").read_bytes() == before


def test_a_member_back_with_old_data_never_takes_the_agent_back(
    world: AgentWorld, tmp_path: Path
) -> None:
    """On a cluster of its own: a member whose raft log went back is refused by etcd for good
    (it would break the shared cluster of the other tests)."""
    cluster = EtcdCluster(tmp_path / "etcd").start()
    try:
        _member_back_with_old_data(world, cluster, "/old-data")
    finally:
        cluster.stop()


def _member_back_with_old_data(world: AgentWorld, cluster: EtcdCluster, prefix: str) -> None:
    _publish(world, cluster, prefix)
    lagging = cluster.members[2]
    cluster.kill(lagging)
    old_data = world.root / "old-member-data"
    shutil.copytree(lagging.data_dir, old_data)
    cluster.start_member(lagging)
    world.edit("config/prod/payments.yaml", "pool_size: 40", "pool_size: 55")
    _publish(world, cluster, prefix)
    _agent_yaml(world, cluster.endpoints, prefix)
    assert world.once().returncode == 0 and _pool(world) == "pool_size: 55"
    cluster.kill(lagging)  # back with the data it had before the last publish
    shutil.rmtree(lagging.data_dir)
    shutil.copytree(old_data, lagging.data_dir)
    cluster.start_member(lagging, wait=False)
    _agent_yaml(world, [lagging.endpoint], prefix)  # and the agent talks to it alone
    wait_for(
        lambda: cluster.status(lagging) is not None or not lagging.running(),
        15,
        "the member back",
    )
    result = world.once()
    assert _pool(world) == "pool_size: 55", result.stderr  # the old head never applied
    assert "Traceback" not in result.stderr
    if not lagging.running():  # etcd itself refuses a member whose raft log went back
        assert "out of range" in lagging.log.read_text()


def test_fleet_status_names_the_agent_that_is_stuck_and_why(
    world: AgentWorld, cluster: EtcdCluster, prefix: str
) -> None:
    _publish(world, cluster, prefix)
    _agent_yaml(world, cluster.endpoints, prefix)
    assert world.once().returncode == 0
    world.edit("config/prod/payments.yaml", "replicas: 6", "replicas: 0")  # the schema: >= 1
    _publish(world, cluster, prefix)
    world.once()
    status = world.cli("fleet", "status", "--etcd", ",".join(cluster.endpoints), "--prefix", prefix)
    assert status.returncode == 1, status.stdout + status.stderr
    assert "0 of 1 agents at the head" in status.stdout
    assert "payments@prod" in status.stdout and "replicas" in status.stdout
    # any agent may write under agents/: what it writes never drives the terminal
    Etcd(cluster.endpoints).txn([put(f"{prefix}/v1/agents/prod/\x1b[31mred", b"{")])
    hostile = world.cli(
        "fleet", "status", "--etcd", ",".join(cluster.endpoints), "--prefix", prefix
    )
    assert hostile.returncode == 1 and "\x1b" not in hostile.stdout
    assert "\\x1b[31mred: its report is not JSON" in hostile.stdout


def test_an_agent_on_git_publishes_what_it_fetches_for_the_fleet(
    world: AgentWorld, cluster: EtcdCluster, prefix: str
) -> None:
    tailer = world.root / "tailer.yaml"
    tailer.write_text(
        f"source: {{url: {world.remote}, branch: main}}\n"
        f"publish: {{etcd: {{endpoints: {json.dumps(cluster.endpoints)}, prefix: {prefix}}}}}\n"
        f"state_dir: {world.root / 'tailer-state'}\n"
        f"targets:\n  - {{service: search, env: prod, path: {world.root / 'search.yaml'}}}\n"
    )
    assert world.cli("agent", "once", "--config", str(tailer)).returncode == 0
    _agent_yaml(world, cluster.endpoints, prefix)
    assert world.once().returncode == 0 and _pool(world) == "pool_size: 40"
    world.edit("config/prod/payments.yaml", "pool_size: 40", "pool_size: 44")
    assert world.cli("agent", "once", "--config", str(tailer)).returncode == 0
    assert world.once().returncode == 0 and _pool(world) == "pool_size: 44"
    bad = world.root / "bad.yaml"
    bad.write_text(
        f"source: {{etcd: {{endpoints: {json.dumps(cluster.endpoints)}}}}}\n"
        f"publish: {{etcd: {{endpoints: {json.dumps(cluster.endpoints)}}}}}\n"
        f"state_dir: {world.root / 'bad-state'}\n"
        f"targets:\n  - {{service: search, env: prod, path: {world.root / 'x.yaml'}}}\n"
    )
    refused = world.cli("agent", "once", "--config", str(bad))
    assert refused.returncode == 2 and "bad.yaml:2" in refused.stderr
    assert "nothing to publish" in refused.stderr


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
def test_clocks_that_jump_order_nothing_revisions_do(
    world: AgentWorld, cluster: EtcdCluster, prefix: str
) -> None:
    """A publisher whose clock is a year behind and an agent whose clock is two years ahead
    (libfaketime shifts wall and monotonic clocks alike): heads are applied in revision order."""
    endpoints = ",".join(cluster.endpoints)
    repo = str(world.repo.workdir)

    def shifted(offset: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["faketime", "-f", offset, *CFGCTL, *args],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    _publish(world, cluster, prefix)
    _agent_yaml(world, cluster.endpoints, prefix)
    assert shifted("+730d", "agent", "once", "--config", str(world.config)).returncode == 0
    world.edit("config/prod/payments.yaml", "pool_size: 40", "pool_size: 46")
    published = shifted("-365d", "-C", repo, "fleet", "publish", "--etcd", endpoints,
                        "--prefix", prefix)  # fmt: skip
    assert published.returncode == 0, published.stderr
    once = shifted("+730d", "agent", "once", "--config", str(world.config))
    assert once.returncode == 0, once.stderr
    assert _pool(world) == "pool_size: 46"


def test_a_cluster_restored_from_a_snapshot_is_followed_from_its_own_revisions(
    world: AgentWorld, cluster: EtcdCluster, prefix: str, tmp_path: Path
) -> None:
    """A new cluster (its id changes; its revisions start low again) is not "old data"."""
    for value in ("41", "42", "43"):  # the shared cluster's revisions run ahead
        world.edit(
            "config/prod/payments.yaml", f"pool_size: {int(value) - 1}", f"pool_size: {value}"
        )
        _publish(world, cluster, prefix)
    _agent_yaml(world, cluster.endpoints, prefix)
    assert world.once().returncode == 0 and _pool(world) == "pool_size: 43"
    restored = EtcdCluster(tmp_path / "restored", members_count=1).start()
    try:
        world.edit("config/prod/payments.yaml", "pool_size: 43", "pool_size: 44")
        _publish(world, restored, prefix)
        _agent_yaml(world, restored.endpoints, prefix)
        result = world.once()
        assert result.returncode == 0, result.stderr
        assert _pool(world) == "pool_size: 44"
        state = json.loads((world.state_dir / "state.json").read_text())
        assert state["source_cluster"] and state["source_revision"] < 10
    finally:
        restored.stop()


def test_a_publish_that_fails_its_health_check_is_rolled_back_as_from_git(
    world: AgentWorld, cluster: EtcdCluster, prefix: str
) -> None:
    # the same pipeline as the Git source: write, health check, roll back the last good file
    target = world.root / "out" / "payments.yaml"
    health = world.root / "health.sh"
    health.write_text(f"#!/bin/sh\n! grep -q 'pool_size: 13' {target}\n")
    health.chmod(0o755)
    _publish(world, cluster, prefix)
    config = _agent_yaml(world, cluster.endpoints, prefix)
    config.write_text(
        config.read_text().replace(
            "format: yaml}", f"format: yaml, health: {{command: [{health}], timeout: 5s}}}}"
        )
    )
    assert world.once().returncode == 0
    good = target.read_bytes()
    assert _pool(world) == "pool_size: 40"
    commit = world.edit("config/prod/payments.yaml", "pool_size: 40", "pool_size: 13")
    _publish(world, cluster, prefix)
    failed = world.once()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert target.read_bytes() == good  # the last good file is back
    status = [t for t in world.status()["targets"] if t["path"] == str(target)]
    assert status[0]["state"] == "rolled-back" and status[0]["failed_commit"] == commit, status


def _window(now: datetime, open_now: bool) -> str:
    start = now + (timedelta(hours=-1) if open_now else timedelta(hours=2))
    end = start + timedelta(hours=2 if open_now else 1)
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[start.weekday()]
    return f"{day} {start:%H:%M}-{end:%H:%M} UTC"


def test_windows_and_waves_hold_an_etcd_delivery_as_a_git_one(
    world: AgentWorld, cluster: EtcdCluster, prefix: str
) -> None:
    first, second = world.root / "out" / "payments.yaml", world.root / "out" / "search.yaml"
    health = world.root / "health.sh"
    health.write_text(f"#!/bin/sh\n! grep -q 'timeout_seconds: 99' {first}\n")
    health.chmod(0o755)
    _publish(world, cluster, prefix)
    base = _agent_yaml(world, cluster.endpoints, prefix).read_text().split("targets:\n")[0]
    targets = (
        "targets:\n"
        f"  - {{service: payments, env: prod, path: {first}, format: yaml, wave: 1, "
        f"health: {{command: [{health}], timeout: 5s}}}}\n"
        f"  - {{service: search, env: prod, path: {second}, format: yaml, wave: 2}}\n"
    )
    now = datetime.now(UTC)
    world.write_config(base + targets + f"windows: {{prod: ['{_window(now, open_now=False)}']}}\n")
    assert world.once().returncode == 0  # a closed window: nothing yet, nothing failed
    assert not first.exists() and not second.exists()
    states = {t["service"]: t for t in world.status()["targets"]}
    assert states["payments"]["state"] == "waiting", states
    assert "maintenance window of prod" in states["payments"]["last_error"]

    world.write_config(base + targets + f"windows: {{prod: ['{_window(now, open_now=True)}']}}\n")
    assert world.once().returncode == 0
    before = second.read_bytes()
    world.edit("config/base/_defaults.yaml", "timeout_seconds: 30", "timeout_seconds: 99")
    _publish(world, cluster, prefix)
    result = json.loads(world.once("--format", "json").stdout)
    assert result["failed"] == [f"payments@prod:{first}"], result
    assert result["blocked"] == [f"search@prod:{second}"], result  # wave 2 never got it
    assert second.read_bytes() == before
