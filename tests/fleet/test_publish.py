"""`cfgctl fleet publish` against a real three-member etcd cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from cfgctl.fleet.documents import HeadDoc, PairDoc, digest
from cfgctl.fleet.etcd import MAX_OPS, Etcd, put
from cfgctl.fleet.layout import Layout
from cfgctl.fleet.view import read_view
from cfgctl.repo.session import Session
from tests.support.actions_runner import run_action
from tests.support.cli import RunCli
from tests.support.etcd import EtcdCluster, free_ports
from tests.support.gitrepo import ConfigRepo
from tests.support.repos import make_example_repo
from tests.support.secretrepo import Key, set_secret


def _publish(run_cli: RunCli, repo: ConfigRepo, cluster: EtcdCluster, prefix: str, *extra: str):  # type: ignore[no-untyped-def]
    endpoints = ",".join(cluster.endpoints)
    return run_cli(
        "-C", str(repo.workdir), "fleet", "publish", "--etcd", endpoints, "--prefix", prefix,
        "--format", "json", *extra,
    )  # fmt: skip


def _keys(cluster: EtcdCluster, prefix: str) -> dict[str, bytes]:
    etcd = Etcd(cluster.endpoints)
    return {kv.key: kv.value for kv in etcd.prefix(prefix + "/").kvs}


def test_publish_writes_every_pair_then_nothing_the_second_time(
    run_cli: RunCli, example_repo: ConfigRepo, cluster: EtcdCluster, prefix: str
) -> None:
    first = _publish(run_cli, example_repo, cluster, prefix)
    assert first.exit_code == 0, first.output
    result = json.loads(first.stdout)
    head_sha = str(example_repo.repo.head.target)
    assert result["commit"] == head_sha and result["pairs"] == len(result["written"]) > 0
    keys = _keys(cluster, prefix)
    head = HeadDoc.parse("head", keys[f"{prefix}/v1/head"])
    assert head.commit == head_sha and head.pairs == result["pairs"]
    pointer = json.loads(keys[f"{prefix}/v1/commit"])  # what agents watch: small
    assert pointer["commit"] == head_sha and pointer["head"] == digest(keys[f"{prefix}/v1/head"])
    assert len(keys[f"{prefix}/v1/commit"]) < 200
    assert set(head.index) == {"base", "staging", "prod", "prod-eu"}  # one roots per env
    pair = PairDoc.parse("k", keys[f"{prefix}/v1/config/prod/payments"])
    assert pair.config["db"]["pool_size"] == 40 and pair.commit == head_sha
    assert [x.path for x in pair.layers][-1] == "config/prod/payments.yaml"
    revision = Etcd(cluster.endpoints).range(f"{prefix}/v1/head").revision

    again = _publish(run_cli, example_repo, cluster, prefix)
    assert again.exit_code == 0 and json.loads(again.stdout)["unchanged"] is True
    assert Etcd(cluster.endpoints).range(f"{prefix}/v1/head").revision == revision


def test_a_change_writes_only_the_pairs_it_changes_and_a_removal_deletes(
    run_cli: RunCli, example_repo: ConfigRepo, cluster: EtcdCluster, prefix: str
) -> None:
    assert _publish(run_cli, example_repo, cluster, prefix).exit_code == 0
    text = example_repo.read("config/prod/payments.yaml").replace("pool_size: 40", "pool_size: 41")
    example_repo.commit({"config/prod/payments.yaml": text}, "bigger pool")
    changed = json.loads(_publish(run_cli, example_repo, cluster, prefix).stdout)
    # prod-eu inherits prod: both effective configurations changed, nothing else
    assert sorted(changed["written"]) == ["prod-eu/payments", "prod/payments"]
    view = read_view(Etcd(cluster.endpoints), Layout(prefix), [("payments", "prod-eu")], Session())
    assert view is not None
    assert view[1].render("payments", "prod-eu").data["db"]["pool_size"] == 41

    manifest = example_repo.read("cfgctl.yaml")
    start = manifest.index("  search:")
    end = manifest.find("\n  ", start + 3)
    without = manifest[:start] + (manifest[end + 1 :] if end > 0 else "")
    gone = {p: None for p in ("config/prod/search.yaml", "config/staging/search.yaml")}
    files = {rel: None for rel in gone if (example_repo.workdir / rel).exists()}
    example_repo.commit({"cfgctl.yaml": without, **files}, "search retired")
    removed = json.loads(_publish(run_cli, example_repo, cluster, prefix).stdout)
    assert removed["deleted"] and all(name.endswith("/search") for name in removed["deleted"])
    assert not [k for k in _keys(cluster, prefix) if k.endswith("/search")]


def test_secrets_are_published_encrypted_never_in_clear(
    run_cli: RunCli, secret_repo: ConfigRepo, alice: Key, cluster: EtcdCluster, prefix: str
) -> None:
    set_secret(run_cli, secret_repo, "fleet-Secret-Value-9")
    secret_repo.commit({}, "a secret", add_all=True)
    result = _publish(run_cli, secret_repo, cluster, prefix)
    assert result.exit_code == 0, result.output
    stored = b"".join(_keys(cluster, prefix).values())
    assert b"fleet-Secret-Value-9" not in stored
    pair = PairDoc.parse("k", _keys(cluster, prefix)[f"{prefix}/v1/config/prod/payments"])
    secrets = [x for x in pair.layers if x.kind == "secrets"]
    assert secrets and "ENC[" in secrets[0].text and "sops:" in secrets[0].text
    assert "password" not in json.dumps(pair.config)  # the rendered part holds plain layers only


def test_many_pairs_go_in_transactions_within_etcds_operation_limit(
    run_cli: RunCli, example_repo: ConfigRepo, cluster: EtcdCluster, prefix: str
) -> None:
    manifest = example_repo.read("cfgctl.yaml")
    extra = "".join(
        f"  svc{i:03}:\n    schema: web-service@2\n    owners: ['@acme/platform']\n"
        for i in range(150)
    )
    manifest = manifest.replace("services:\n", "services:\n" + extra, 1)
    files: dict[str, str | bytes | None] = {"cfgctl.yaml": manifest}
    base = example_repo.read("config/prod/payments.yaml")
    for i in range(150):
        files[f"config/prod/svc{i:03}.yaml"] = base
    example_repo.commit(files, "150 services")
    result = json.loads(_publish(run_cli, example_repo, cluster, prefix).stdout)
    # pairs + index shards + shared files, in transactions of at most MAX_OPS, then the head
    assert result["pairs"] > 450
    assert result["transactions"] >= -(-len(result["written"]) // MAX_OPS) + 1


def test_a_pair_over_etcds_request_limit_is_refused_by_name_before_any_write(
    run_cli: RunCli, example_repo: ConfigRepo, cluster: EtcdCluster, prefix: str
) -> None:
    big = "".join(f"key_{i}: {'x' * 200}\n" for i in range(9000))  # ~1.9 MiB
    example_repo.commit({"config/prod/payments.yaml": big}, "huge")
    result = _publish(run_cli, example_repo, cluster, prefix)
    assert result.exit_code == 2
    assert "payments in prod" in result.stderr and "request limit" in result.stderr
    assert "Traceback" not in result.output
    assert _keys(cluster, prefix) == {}


def test_a_prefix_holding_foreign_data_is_left_alone(
    run_cli: RunCli, example_repo: ConfigRepo, cluster: EtcdCluster, prefix: str
) -> None:
    etcd = Etcd(cluster.endpoints)
    etcd.txn([put(f"{prefix}/someone-elses/key", b"theirs")])
    result = _publish(run_cli, example_repo, cluster, prefix)
    assert result.exit_code == 3
    assert "not cfgctl's" in result.stderr and "someone-elses" in result.stderr
    assert _keys(cluster, prefix) == {f"{prefix}/someone-elses/key": b"theirs"}


def test_an_unreachable_cluster_and_bad_urls_are_clear_errors(
    run_cli: RunCli, example_repo: ConfigRepo
) -> None:
    dead = ",".join(f"http://127.0.0.1:{port}" for port in free_ports(2))
    args = ("-C", str(example_repo.workdir), "fleet", "publish", "--timeout", "1")
    result = run_cli(*args, "--etcd", dead)
    assert result.exit_code == 3 and "no etcd member answered" in result.stderr
    bad = run_cli(*args, "--etcd", "ftp://host:1")
    assert bad.exit_code == 2 and "not an etcd endpoint" in bad.stderr
    prefix = run_cli(*args, "--etcd", dead, "--prefix", "relative")
    assert prefix.exit_code == 2 and "not an etcd prefix" in prefix.stderr
    assert "Traceback" not in result.output + bad.output + prefix.output


def test_a_second_publisher_waits_for_the_lock(
    run_cli: RunCli, example_repo: ConfigRepo, cluster: EtcdCluster, prefix: str
) -> None:
    etcd = Etcd(cluster.endpoints)
    lease = etcd.lease(30)
    etcd.txn([put(f"{prefix}/v1/lock", b"pid 1", lease)])
    result = _publish(run_cli, example_repo, cluster, prefix)
    assert result.exit_code == 3 and "another publish" in result.stderr
    etcd.revoke(lease)
    assert _publish(run_cli, example_repo, cluster, prefix).exit_code == 0


def test_the_leader_killed_mid_publish_never_leaves_a_half_published_head(
    example_repo: ConfigRepo, cluster: EtcdCluster, prefix: str, tmp_path: Path
) -> None:
    manifest = example_repo.read("cfgctl.yaml")
    extra = "".join(
        f"  big{i:03}:\n    schema: web-service@2\n    owners: ['@acme/platform']\n"
        for i in range(250)
    )
    example_repo.commit(
        {"cfgctl.yaml": manifest.replace("services:\n", "services:\n" + extra, 1)}, "250"
    )
    endpoints = ",".join(cluster.endpoints)
    command = [sys.executable, "-m", "cfgctl", "-C", str(example_repo.workdir), "fleet"]
    publisher = subprocess.Popen(
        [*command, "publish", "--etcd", endpoints, "--prefix", prefix],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    etcd = Etcd(cluster.endpoints)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and publisher.poll() is None:
        if etcd.range(f"{prefix}/v1/config/", f"{prefix}/v1/config0", count_only=True).count:
            break  # pairs are being written: the head is not
        time.sleep(0.01)
    leader = cluster.leader()
    cluster.kill(leader)
    _, err = publisher.communicate(timeout=60)
    assert publisher.returncode in (0, 3), err
    assert "Traceback" not in err
    survivors = [m.endpoint for m in cluster.members if m.running()]
    view = read_view(Etcd(survivors), Layout(prefix), [("big000", "prod")], Session())
    if publisher.returncode == 0:  # it went on with the others: whole
        assert view is not None and view[0].head.commit == str(example_repo.repo.head.target)
    else:  # cut off: no head, or the whole of it
        assert view is None or view[0].pair("prod", "big000") is not None
    cluster.start_member(leader)
    again = subprocess.run(
        [*command, "publish", "--etcd", endpoints, "--prefix", prefix],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    view = read_view(Etcd(cluster.endpoints), Layout(prefix), [("big249", "prod")], Session())
    assert view is not None and view[0].pair("prod", "big249") is not None


def test_the_publish_action_publishes_the_pushed_commit(
    example_repo: ConfigRepo, cluster: EtcdCluster, prefix: str, tmp_path: Path
) -> None:
    action = Path(__file__).resolve().parents[2] / "actions/publish"
    env = {
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_SHA": str(example_repo.repo.head.target),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    run = run_action(
        action,
        inputs={"etcd": ",".join(cluster.endpoints), "prefix": prefix, "python-version": "",
                "rev": str(example_repo.repo.head.target)},
        env=env,
        workspace=example_repo.workdir,
        tmp=tmp_path,
    )  # fmt: skip
    publish = run.steps[-1]
    assert publish.returncode == 0, publish.stderr
    assert "pairs written" in run.summary
    head = HeadDoc.parse("head", _keys(cluster, prefix)[f"{prefix}/v1/head"])
    assert head.commit == str(example_repo.repo.head.target)


def test_another_repository_or_an_older_commit_does_not_replace_the_head(
    run_cli: RunCli, example_repo: ConfigRepo, cluster: EtcdCluster, prefix: str, tmp_path: Path
) -> None:
    first = str(example_repo.repo.head.target)
    text = example_repo.read("config/prod/payments.yaml").replace("pool_size: 40", "pool_size: 47")
    later = example_repo.commit({"config/prod/payments.yaml": text}, "later")
    assert _publish(run_cli, example_repo, cluster, prefix).exit_code == 0
    older = _publish(run_cli, example_repo, cluster, prefix, "--rev", first)  # CI out of order
    assert older.exit_code == 3 and "older than the published head" in older.stderr
    other = make_example_repo(tmp_path / "other")
    foreign = _publish(run_cli, other, cluster, prefix)
    assert foreign.exit_code == 3 and "not in this repository" in foreign.stderr
    assert HeadDoc.parse("h", _keys(cluster, prefix)[f"{prefix}/v1/head"]).commit == later
    forced = _publish(run_cli, other, cluster, prefix, "--force")
    assert forced.exit_code == 0, forced.output
    assert "Traceback" not in older.output + foreign.output
