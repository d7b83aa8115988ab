"""Fixtures shared by every test folder: thin wrappers around the builders of tests/support."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import cli
from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.repos import make_example_repo, make_small_repo
from tests.support.secretrepo import Key, make_key, make_secret_repo

# The modules with the longest tests (`pytest --durations`), longest first. `make test`'s workers
# take tests from the front of the queue: a minute-long test picked up last (the demo tour,
# schemathesis) leaves the other workers idle at the end (~40 s of the whole run here).
_LONGEST = (
    "test_demo.py",
    "web/test_vitest.py",  # on a fresh clone: its stamp under .cache/ is not there
    "server/test_schemathesis.py",
    "agent/test_agent_faults.py",
    "agent/test_hangs.py",
    "agent/test_agent.py",
    "review/test_actions_run.py",
    "server/test_process.py",
    "server/test_remote.py",
    "analyze/test_report.py",
    "agent/test_canary.py",
    "agent/test_traces.py",
    "secrets/test_secrets_lock.py",
    "editing/test_repository_lock.py",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest modules first (their tests in order), then the rest as collected.
    (`--dist loadgroup` hands out its groups, the largest units, before all of these.)"""
    here = Path(__file__).parent
    rank = {name: i for i, name in enumerate(_LONGEST)}

    def key(item: pytest.Item) -> int:
        try:
            name = item.path.relative_to(here).as_posix()
        except ValueError:
            return len(rank)
        return rank.get(name, len(rank))

    items.sort(key=key)


@pytest.fixture(scope="session", autouse=True)
def _no_secret_in_any_output() -> Iterator[None]:
    yield
    leaks = cli.leaked_secrets()
    assert not leaks, f"secret values printed by: {[' '.join(a) for a, _ in leaks][:5]}"


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(home / "no-such-key.txt"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.delenv("CFGCTL_NO_CACHE", raising=False)
    # Traces go to the isolated home's ~/.local/state/cfgctl/traces, never to a collector.
    for name in ("CFGCTL_TRACE", "CFGCTL_TRACE_DIR", "XDG_STATE_HOME", "TRACEPARENT"):
        monkeypatch.delenv(name, raising=False)
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    (home / ".gitconfig").write_text("[user]\n\tname = Test\n\temail = test@example.com\n")


@pytest.fixture
def run_cli() -> RunCli:
    """Drive the real CLI in-process; stdout and stderr apart."""
    return cli.run_cli


@pytest.fixture
def example_repo(tmp_path: Path) -> ConfigRepo:
    """The example repository `cfgctl init` creates, committed."""
    return make_example_repo(tmp_path / "cfg")


@pytest.fixture
def small_repo(tmp_path: Path) -> ConfigRepo:
    return make_small_repo(tmp_path / "small")


@pytest.fixture
def alice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Key:
    """An age key, the one sops uses (SOPS_AGE_KEY_FILE)."""
    key = make_key(tmp_path, "alice")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key.file))
    return key


@pytest.fixture
def bob(tmp_path: Path) -> Key:
    return make_key(tmp_path, "bob")


@pytest.fixture
def secret_repo(tmp_path: Path, alice: Key) -> ConfigRepo:
    """The example repository whose prod secrets alice can read."""
    return make_secret_repo(tmp_path / "cfg", alice)
