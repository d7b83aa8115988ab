"""One real three-member etcd cluster (Debian's etcd 3.4) for the tests of tests/fleet/. Those
that use it share one xdist worker (--dist loadgroup) and run one after the other there: a test
that kills a member brings it back before the next starts (`cluster` checks every member runs).
Each test publishes under a prefix of its own. The cluster stops after the last of them."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.etcd import EtcdCluster, etcd_available

HERE = Path(__file__).resolve().parent
_PREFIXES = itertools.count()


# tryfirst: xdist turns the group marker into the node id's "@group" suffix in its own hook
# of the same name, which would otherwise run before this one and find no marker.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents and _uses_cluster(item):
            item.add_marker(pytest.mark.xdist_group("etcd"))
            item.add_marker(pytest.mark.slow)


class _Shared:
    """The one cluster of this test process: started by the first test that needs it, stopped
    after the last of a run of such tests (an idle three-member cluster, 50 ms heartbeats, costs
    ~7 % of a core: the group runs first and the session goes on for minutes after it)."""

    cluster: EtcdCluster | None = None

    @classmethod
    def get(cls, tmp_path_factory: pytest.TempPathFactory) -> EtcdCluster:
        if cls.cluster is None:
            cls.cluster = EtcdCluster(tmp_path_factory.mktemp("etcd")).start()
        return cls.cluster

    @classmethod
    def stop(cls) -> None:
        if cls.cluster is not None:
            cls.cluster.stop()
            cls.cluster = None


def _uses_cluster(item: pytest.Item | None) -> bool:
    uses = getattr(item, "fixturenames", ())
    return "cluster" in uses or "etcd_cluster" in uses


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield  # the test's fixtures first: `cluster` checks every member after the test
    if _uses_cluster(item) and not _uses_cluster(nextitem):
        _Shared.stop()


def pytest_sessionfinish(session: pytest.Session) -> None:
    _Shared.stop()


@pytest.fixture
def etcd_cluster(tmp_path_factory: pytest.TempPathFactory) -> EtcdCluster:
    if not etcd_available():
        pytest.skip("etcd is not installed (apt-get install etcd-server; scripts/test-setup.sh)")
    return _Shared.get(tmp_path_factory)


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
