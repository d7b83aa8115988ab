"""`cfgctl.sdk.watch_etcd`: a service's typed configuration straight from a real etcd cluster."""

from __future__ import annotations

import threading

import pytest
from pydantic import BaseModel, ConfigDict

from cfgctl.errors import EnvError, InputError
from cfgctl.fleet.etcd import Etcd, put
from cfgctl.sdk import ConfigError, watch_etcd
from tests.support.cli import RunCli
from tests.support.etcd import EtcdCluster, free_ports
from tests.support.gitrepo import ConfigRepo
from tests.support.secretrepo import Key, set_secret


class Db(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    host: str
    pool_size: int
    password: str | None = None


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    replicas: int
    db: Db


def _publish(run_cli: RunCli, repo: ConfigRepo, cluster: EtcdCluster, prefix: str) -> None:
    result = run_cli(
        "-C", str(repo.workdir), "fleet", "publish", "--etcd", ",".join(cluster.endpoints),
        "--prefix", prefix,
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def _set_pool(repo: ConfigRepo, old: int, new: int) -> None:
    text = repo.read("config/prod/payments.yaml")
    repo.commit(
        {"config/prod/payments.yaml": text.replace(f"pool_size: {old}", f"pool_size: {new}")},
        f"pool {new}",
    )


def test_watch_etcd_gives_typed_hot_reload_and_keeps_the_last_good_one(
    run_cli: RunCli, example_repo: ConfigRepo, cluster: EtcdCluster, prefix: str
) -> None:
    _publish(run_cli, example_repo, cluster, prefix)
    changes: list[tuple[int, int]] = []
    errors: list[Exception] = []
    seen = threading.Event()

    def on_change(old: Settings, new: Settings, paths: object) -> None:
        changes.append((old.db.pool_size, new.db.pool_size))
        seen.set()

    with watch_etcd(
        cluster.endpoints, "payments", "prod", Settings, prefix=prefix,
        on_change=on_change, on_error=errors.append,
    ) as watcher:  # fmt: skip
        assert watcher.current.db.pool_size == 40
        assert watcher.commit == str(example_repo.repo.head.target)
        start = watcher.outcomes
        _set_pool(example_repo, 40, 64)
        _publish(run_cli, example_repo, cluster, prefix)
        assert watcher.wait_for_reload(10, since=start)
        assert watcher.current.db.pool_size == 64 and changes == [(40, 64)]
        # a member lost: the watch goes on with another one
        cluster.kill(cluster.members[0])
        start = watcher.outcomes
        _set_pool(example_repo, 64, 65)
        survivors = [m for m in cluster.members if m.running()]
        cluster.wait_healthy()
        result = run_cli(
            "-C", str(example_repo.workdir), "fleet", "publish", "--prefix", prefix,
            "--etcd", ",".join(m.endpoint for m in survivors),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert watcher.wait_for_reload(15, since=start)
        assert watcher.current.db.pool_size == 65
        # a value the model refuses: the last good one stays
        start = watcher.outcomes
        _set_pool(example_repo, 65, 0)
        text = example_repo.read("config/prod/payments.yaml").replace("replicas: 6", "replicas: x")
        example_repo.commit({"config/prod/payments.yaml": text}, "broken")
        result = run_cli(
            "-C", str(example_repo.workdir), "fleet", "publish", "--prefix", prefix,
            "--etcd", ",".join(m.endpoint for m in survivors),
        )  # fmt: skip
        assert result.exit_code == 0
        assert watcher.wait_for_reload(15, since=start)
        assert watcher.current.db.pool_size == 65
        assert isinstance(watcher.last_error, ConfigError) and errors


def test_a_pair_of_a_publish_still_running_is_not_taken(
    run_cli: RunCli, example_repo: ConfigRepo, cluster: EtcdCluster, prefix: str
) -> None:
    _publish(run_cli, example_repo, cluster, prefix)
    etcd = Etcd(cluster.endpoints)
    with watch_etcd(cluster.endpoints, "payments", "prod", Settings, prefix=prefix) as watcher:
        key = f"{prefix}/v1/config/prod/payments"
        raw = etcd.range(key).kvs[0].value
        start = watcher.outcomes
        etcd.txn([put(key, raw.replace(b'"pool_size":40', b'"pool_size":41'))])
        # no head lists it: nothing is swapped in
        assert not watcher.wait_for_reload(1.5, since=start)
        assert watcher.current.db.pool_size == 40


def test_secrets_are_decrypted_in_memory_with_the_services_key(
    run_cli: RunCli, secret_repo: ConfigRepo, alice: Key, cluster: EtcdCluster, prefix: str
) -> None:
    set_secret(run_cli, secret_repo, "sdk-etcd-Secret-7")
    secret_repo.commit({}, "a secret", add_all=True)
    _publish(run_cli, secret_repo, cluster, prefix)
    with watch_etcd(cluster.endpoints, "payments", "prod", Settings, prefix=prefix) as watcher:
        assert watcher.current.db.password == "sdk-etcd-Secret-7"


def test_bad_names_and_an_unreachable_cluster_are_clear_errors(
    run_cli: RunCli, example_repo: ConfigRepo, cluster: EtcdCluster, prefix: str
) -> None:
    _publish(run_cli, example_repo, cluster, prefix)
    with pytest.raises(InputError, match="no such service"):
        watch_etcd(cluster.endpoints, "nope", "prod", Settings, prefix=prefix)
    dead = [f"http://127.0.0.1:{port}" for port in free_ports(1)]
    with pytest.raises(EnvError, match="no etcd member answered"):
        watch_etcd(dead, "payments", "prod", Settings, prefix=prefix, timeout=1)
