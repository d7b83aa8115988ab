"""One real three-member etcd cluster (Debian's etcd 3.4) for the tests of tests/fleet/. Those
that use it share one xdist worker (--dist loadgroup) and run one after the other there: a test that kills a
member brings it back before the next starts (`cluster` checks every member runs). Each test
publishes under a prefix of its own."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.etcd import EtcdCluster, etcd_available

HERE = Path(__file__).resolve().parent
_PREFIXES = itertools.count()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        uses = getattr(item, "fixturenames", ())
        if HERE in item.path.parents and ("cluster" in uses or "etcd_cluster" in uses):
            item.add_marker(pytest.mark.xdist_group("etcd"))
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def etcd_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdCluster]:
    if not etcd_available():
        pytest.skip("etcd is not installed (apt-get install etcd-server; scripts/test-setup.sh)")
    cluster = EtcdCluster(tmp_path_factory.mktemp("etcd")).start()
    yield cluster
    cluster.stop()


def _whole(cluster: EtcdCluster) -> None:
    """Every member running, answering and agreeing on a leader; a member that does not come
    back (a test broke its data) fails here, by name, not in a later test."""
    for member in cluster.members:
        if not member.running():
            cluster.start_member(member, wait=False)
    cluster.wait_healthy()
    for member in cluster.members:
        deadline = time.monotonic() + 10
        while cluster.status(member) is None and member.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert member.running() and cluster.status(member) is not None, (
            f"etcd member {member.name} did not come back; its log: {member.log}"
        )


@pytest.fixture
def cluster(etcd_cluster: EtcdCluster) -> Iterator[EtcdCluster]:
    """The cluster with every member running, before and after the test."""
    _whole(etcd_cluster)
    yield etcd_cluster
    _whole(etcd_cluster)


@pytest.fixture
def prefix() -> str:
    return f"/t{next(_PREFIXES)}-cfgctl"
