"""What a publish pays for: a commit that changes a few pairs of many parses and renders those
pairs only (benchmarks/fleet_bench.py: 100 changed pairs of 30,000 took 35 s when every pair
was rebuilt to compare digests)."""

from __future__ import annotations

from cfgctl.fleet.documents import PairDoc
from cfgctl.fleet.etcd import Etcd
from cfgctl.fleet.layout import Layout
from cfgctl.fleet.publish import commit_info, publish
from cfgctl.repo.snapshot import Snapshot
from tests.support.etcd import EtcdCluster
from tests.support.gitrepo import ConfigRepo


def test_a_commit_parses_only_the_pairs_it_changes(
    example_repo: ConfigRepo, cluster: EtcdCluster, prefix: str
) -> None:
    etcd, layout = Etcd(cluster.endpoints), Layout.of(prefix)
    first = Snapshot.at(example_repo.workdir, "HEAD", use_cache=False)
    assert publish(first, etcd, layout, commit_info(first)).written
    text = example_repo.read("config/prod/payments.yaml").replace("pool_size: 40", "pool_size: 41")
    example_repo.commit({"config/prod/payments.yaml": text}, "bigger pool")

    snap = Snapshot.at(example_repo.workdir, "HEAD", use_cache=False)
    diffed = publish(snap, etcd, layout, commit_info(snap))
    # Git's diff named the file: the snapshot was not even read
    assert diffed.incremental and sorted(diffed.written) == ["prod-eu/payments", "prod/payments"]
    assert not snap._docs

    # a new cfgctl.yaml: the whole commit is read, but only the changed pairs parsed
    text = text.replace("pool_size: 41", "pool_size: 42")
    manifest = example_repo.read("cfgctl.yaml") + "# a comment\n"
    example_repo.commit({"config/prod/payments.yaml": text, "cfgctl.yaml": manifest}, "pool")
    snap = Snapshot.at(example_repo.workdir, "HEAD", use_cache=False)
    result = publish(snap, etcd, layout, commit_info(snap))
    assert not result.incremental
    changed = [("payments", "prod"), ("payments", "prod-eu")]  # prod-eu inherits prod
    assert sorted(result.written) == sorted(f"{env}/{service}" for service, env in changed)
    assert result.pairs == len(first.pairs())
    needed = {
        layer.path
        for service, env in changed
        for layer in snap.layers(service, env)
        if not layer.secret
    }
    parsed = {path for path in snap._docs if path.startswith("config/")}  # what was parsed
    assert parsed == needed
    pair = PairDoc.parse("k", etcd.range(layout.config("prod-eu", "payments")).kvs[0].value)
    assert pair.config["db"]["pool_size"] == 42 and pair.commit == result.commit
