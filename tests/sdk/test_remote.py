"""`cfgctl.sdk.remote`: the configuration read from a real `cfgctl serve` process, followed by
its long poll, and started from the cache when the server is down."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from cfgctl.errors import EnvError, InputError
from cfgctl.sdk import remote
from tests.support.gitrepo import ConfigRepo
from tests.support.prometheus import free_port
from tests.support.sample_service import Payments
from tests.support.server import server_process

pytestmark = pytest.mark.slow  # a server process

PROD = "config/prod/payments.yaml"


def test_a_commit_reaches_the_service_and_the_cache_starts_it_when_the_server_is_down(
    example_repo: ConfigRepo, tmp_path: Path
) -> None:
    cache = tmp_path / "payments.json"
    changes: list[list[str]] = []
    with server_process(example_repo.workdir, log_dir=tmp_path) as server:
        watcher = remote(
            server.url, "payments", "prod", Payments, cache=cache, wait_seconds=5,
            on_change=lambda old, new, changed: changes.append(changed),
        )  # fmt: skip
        with watcher:
            assert watcher.current.db.pool_size == 40 and watcher.last_error is None
            first = watcher.commit
            since = watcher.outcomes
            text = example_repo.read(PROD).replace("pool_size: 40", "pool_size: 60")
            example_repo.commit({PROD: text}, "a bigger pool")
            assert watcher.wait_for_reload(10, since=since)
            assert watcher.current.db.pool_size == 60 and watcher.commit != first
            assert changes == [["db.pool_size"]]
            since = watcher.outcomes
            broken = text.replace("pool_size: 60", "pool_size: 0")  # the schema refuses it
            example_repo.commit({PROD: broken}, "a pool of nothing")
            other = example_repo.read("config/base/search.yaml").replace("9200", "9201")
            example_repo.commit({"config/base/search.yaml": other}, "search moved")
            assert watcher.wait_for_reload(3, since=since) is False  # nothing to swap
            assert watcher.current.db.pool_size == 60
    saved = json.loads(cache.read_text())
    assert saved["config"]["db"]["pool_size"] == 60 and stat.S_IMODE(cache.stat().st_mode) == 0o600

    down = f"http://127.0.0.1:{free_port()}"
    with remote(down, "payments", "prod", Payments, cache=cache) as started:
        assert started.current.db.pool_size == 60 and started.commit == saved["commit"]
        assert isinstance(started.last_error, EnvError)
    with pytest.raises(EnvError, match="cannot read the configuration"):
        remote(down, "payments", "prod", Payments)


def test_a_cache_of_revealed_secrets_must_not_be_on_a_disk(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="memory-backed"):
        remote("http://127.0.0.1:1", "payments", "prod", Payments, reveal=True,
               cache=tmp_path / "c.json")  # fmt: skip
    with pytest.raises(InputError, match="no http"):
        remote("ftp://x", "payments", "prod", Payments)
