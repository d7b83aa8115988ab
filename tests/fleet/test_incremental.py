"""A publish that reads only what Git's diff names writes exactly what reading the whole commit
writes: after each kind of change, the keys under an incrementally published prefix equal those
of the same commit published whole under a fresh one."""

from __future__ import annotations

import json
from itertools import count
from typing import Any

from cfgctl.fleet.documents import HeadDoc
from cfgctl.fleet.etcd import Etcd, put
from cfgctl.fleet.layout import Layout, shard_of
from tests.support.cli import RunCli
from tests.support.etcd import EtcdCluster
from tests.support.gitrepo import ConfigRepo

_FRESH = count()


def _publish(run_cli: RunCli, repo: ConfigRepo, cluster: EtcdCluster, prefix: str) -> Any:
    result = run_cli(
        "-C", str(repo.workdir), "fleet", "publish", "--etcd", ",".join(cluster.endpoints),
        "--prefix", prefix, "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _contents(cluster: EtcdCluster, prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in Etcd(cluster.endpoints).prefix(prefix + "/v1/").kvs:
        name = kv.key[len(prefix) :]
        if name in ("/v1/lock", "/v1/commit"):
            continue
        if name == "/v1/head":
            head = HeadDoc.parse(kv.key, kv.value)
            out[name] = {**json.loads(head.to_bytes()), "published_at": "", "traceparent": ""}
        elif name.startswith("/v1/config/"):  # less the commit each pair was last written at
            out[name] = {**json.loads(kv.value), "commit": ""}
        else:
            out[name] = kv.value
    return out


def test_an_incremental_publish_writes_what_a_whole_one_does(
    run_cli: RunCli, example_repo: ConfigRepo, cluster: EtcdCluster, prefix: str
) -> None:
    first = _publish(run_cli, example_repo, cluster, prefix)
    assert first["read"] == "commit"
    schema = example_repo.read("schemas/web-service.v2.schema.json")
    steps: list[tuple[dict[str, str | bytes | None], str]] = [
        ({"config/prod/payments.yaml": example_repo.read("config/prod/payments.yaml")
          .replace("pool_size: 40", "pool_size: 41")}, "a service layer"),
        ({"config/base/_defaults.yaml": example_repo.read("config/base/_defaults.yaml") + "\n"
          "# a comment changes the layer's text\n"}, "defaults of the root environment"),
        ({"schemas/web-service.v2.schema.json": schema.replace('"port"', '"port" ', 1)},
         "a schema"),
        ({"config/staging/search.yaml": None}, "a layer removed"),
        ({"README.md": "nothing of the configuration\n"}, "a file outside it"),
    ]  # fmt: skip
    for files, what in steps:
        files = {
            k: v for k, v in files.items() if v is not None or (example_repo.workdir / k).exists()
        }
        example_repo.commit(files, what)
        step = _publish(run_cli, example_repo, cluster, prefix)
        assert step["read"] == "changes", what
        fresh = f"{prefix}-whole{next(_FRESH)}"
        whole = _publish(run_cli, example_repo, cluster, fresh)
        assert whole["read"] == "commit" and whole["pairs"] == step["pairs"]
        assert _contents(cluster, prefix) == _contents(cluster, fresh), what
    # a new cfgctl.yaml: everything is read again
    manifest = example_repo.read("cfgctl.yaml") + "\n# owners change\n"
    example_repo.commit({"cfgctl.yaml": manifest}, "manifest")
    assert _publish(run_cli, example_repo, cluster, prefix)["read"] == "commit"


def test_a_damaged_index_shard_makes_the_next_publish_read_everything_and_mend_it(
    run_cli: RunCli, example_repo: ConfigRepo, cluster: EtcdCluster, prefix: str
) -> None:
    _publish(run_cli, example_repo, cluster, prefix)
    etcd = Etcd(cluster.endpoints)
    key = Layout(prefix).index("prod", shard_of("search"))  # payments' change does not reach it
    shard = etcd.range(key).kvs[0]
    etcd.txn([put(shard.key, b'{"kind": "cfgctl.index", "format": 1, "pairs": {}}')])
    text = example_repo.read("config/prod/payments.yaml").replace("pool_size: 40", "pool_size: 43")
    example_repo.commit({"config/prod/payments.yaml": text}, "pool")
    mended = _publish(run_cli, example_repo, cluster, prefix)
    assert mended["read"] == "commit"
    assert etcd.range(shard.key).kvs[0].value == shard.value  # written again as it was
    fresh = f"{prefix}-whole"
    _publish(run_cli, example_repo, cluster, fresh)
    assert _contents(cluster, prefix) == _contents(cluster, fresh)
