"""watch(): real files changed on disk, a real background thread, real readers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cfgctl.errors import CfgctlError, InputError
from cfgctl.repo.fsutil import atomic_write
from cfgctl.sdk import ConfigError, Watcher, watch
from tests.sdk.models import Settings, Twins

pytestmark = pytest.mark.slow  # a real watcher thread waiting on file-system events

BASE = "db:\n  host: db.internal\n  pool_size: {pool}\nmode: {mode}\n"


def _config(pool: int = 10, mode: str = "dev") -> str:
    return BASE.format(pool=pool, mode=mode)


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == level]


@pytest.fixture
def sdk_log() -> Iterator[Records]:
    # Our own handler: a CLI test in the same process may have stopped `cfgctl` propagating.
    logger = logging.getLogger("cfgctl.sdk")
    handler, level = Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(_config())
    return path


Calls = list[tuple[Any, Any, list[str]]]


def _recorder() -> tuple[Calls, Callable[[Any, Any, list[str]], None]]:
    calls: Calls = []
    return calls, lambda old, new, changed: calls.append((old, new, changed))


def _change(watcher: Watcher[Any], write: Callable[[], object]) -> None:
    """Write, then wait (5 s at most) for the watcher to swap or reject the update."""
    since = watcher.outcomes
    write()
    assert watcher.wait_for_reload(5, since=since), "no reload within 5 s"


def test_an_in_place_write_reloads_and_calls_back(config: Path) -> None:
    calls, on_change = _recorder()
    with watch(config, Settings, on_change=on_change, keys=["db.*"]) as watcher:
        first = watcher.current
        assert first.db.pool_size == 10
        _change(watcher, lambda: config.write_text(_config(pool=20)))
        assert watcher.current.db.pool_size == 20
        assert calls == [(first, watcher.current, ["db.pool_size"])]
        assert watcher.reloads == 1 and watcher.last_error is None
    assert first.db.pool_size == 10  # the old object is untouched


def test_an_atomic_replace_reloads(config: Path) -> None:
    calls, on_change = _recorder()
    with watch(config, Settings, on_change=on_change) as watcher:
        inode = config.stat().st_ino
        _change(watcher, lambda: atomic_write(config, _config(pool=30, mode="prod").encode()))
        assert config.stat().st_ino != inode  # a new file was renamed over the old one
        assert (watcher.current.db.pool_size, watcher.current.mode) == (30, "prod")
        assert [changed for _, _, changed in calls] == [["db.pool_size", "mode"]]


def test_a_change_of_an_unwatched_key_swaps_without_calling_back(config: Path) -> None:
    calls, on_change = _recorder()
    with watch(config, Settings, on_change=on_change, keys=["db"]) as watcher:
        _change(watcher, lambda: atomic_write(config, _config(mode="prod").encode()))
        assert watcher.current.mode == "prod"
        assert calls == []
        _change(watcher, lambda: atomic_write(config, _config(pool=11, mode="prod").encode()))
        assert [changed for _, _, changed in calls] == [["db.pool_size"]]  # `db` covers db.*


def test_an_invalid_update_keeps_the_last_good_config(config: Path, sdk_log: Records) -> None:
    errors: list[CfgctlError] = []
    calls, on_change = _recorder()
    with watch(config, Settings, on_change=on_change, on_error=errors.append) as watcher:
        good = watcher.current
        _change(watcher, lambda: atomic_write(config, _config(pool="lots").encode()))  # type: ignore[arg-type]
        assert watcher.current is good
        assert isinstance(watcher.last_error, ConfigError)
        assert watcher.last_error.key == "db.pool_size"
        assert errors == [watcher.last_error] and watcher.failures == 1 and calls == []
        [warning] = sdk_log.messages(logging.WARNING)
        assert "update rejected, keeping the last good configuration" in warning
        assert "db.pool_size" in warning

        _change(watcher, lambda: atomic_write(config, b"db: {host: [broken\n"))
        assert isinstance(watcher.last_error, InputError) and watcher.current is good

        _change(watcher, lambda: atomic_write(config, _config(pool=12).encode()))
        assert watcher.current.db.pool_size == 12
        assert watcher.last_error is None and watcher.failures == 2 and watcher.reloads == 1
        assert calls == [(good, watcher.current, ["db.pool_size"])]
        assert any("valid again" in m for m in sdk_log.messages(logging.INFO))


def test_a_deleted_file_is_reported_and_its_return_recovers(config: Path) -> None:
    with watch(config, Settings) as watcher:
        _change(watcher, config.unlink)
        assert watcher.last_error is not None
        assert watcher.last_error.message == "no such configuration file"
        assert watcher.current.db.pool_size == 10
        _change(watcher, lambda: config.write_text(_config(pool=10)))
        assert watcher.last_error is None and watcher.reloads == 1


def test_a_failing_callback_is_logged_and_the_watcher_goes_on(
    config: Path, sdk_log: Records
) -> None:
    def on_change(old: Settings, new: Settings, changed: list[str]) -> None:
        raise RuntimeError("callback bug")

    with watch(config, Settings, on_change=on_change) as watcher:
        _change(watcher, lambda: atomic_write(config, _config(pool=21).encode()))
        _change(watcher, lambda: atomic_write(config, _config(pool=22).encode()))
        assert watcher.current.db.pool_size == 22 and watcher.running
    failures = [r for r in sdk_log.records if r.levelno == logging.ERROR]
    assert len(failures) == 2 and all(r.exc_info for r in failures)
    assert "the on_change callback failed" in failures[0].getMessage()


def test_readers_never_see_half_an_update(tmp_path: Path) -> None:
    path = tmp_path / "twins.json"
    path.write_text('{"pair": {"a": 0, "b": 0, "label": "v0"}}')
    seen: set[int] = set()
    torn: list[tuple[int, int, str]] = []
    reads = 0
    done = threading.Event()
    watcher = watch(path, Twins, debounce_ms=5)

    def reader() -> None:
        nonlocal reads
        while not done.is_set():
            cfg = watcher.current  # one read per unit of work, then a consistent object
            pair = cfg.pair
            if not (pair.a == pair.b and pair.label == f"v{pair.a}"):
                torn.append((pair.a, pair.b, pair.label))
            seen.add(pair.a)
            reads += 1

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        for i in range(1, 41):
            doc = f'{{"pair": {{"a": {i}, "b": {i}, "label": "v{i}"}}, "other": {i}}}'
            _change(watcher, lambda doc=doc: atomic_write(path, doc.encode()))  # type: ignore[misc]
    finally:
        done.set()
        for t in readers:
            t.join(5)
        watcher.stop()
    assert torn == []
    assert watcher.reloads == 40 and watcher.current.pair.a == 40
    assert len(seen) > 10 and reads > 1000  # the readers really ran during the swaps


def test_stop_ends_the_thread(config: Path) -> None:
    watcher = watch(config, Settings)
    assert watcher.running
    watcher.stop()
    assert not watcher.running
    atomic_write(config, _config(pool=50).encode())
    assert not watcher.wait_for_reload(0.5)
    assert watcher.current.db.pool_size == 10  # still readable, no longer updated
    assert "stopped" in repr(watcher)


def test_the_current_config_is_read_only(config: Path) -> None:
    with watch(config, Settings) as watcher:
        with pytest.raises(AttributeError, match="read-only"):
            watcher.current = watcher.current
        assert not watcher.wait_for_reload(0.3)  # nothing changed: no reload


def test_an_invalid_file_at_the_start_raises(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("db: {pool_size: 0}\n")
    with pytest.raises(ConfigError) as info:
        watch(path, Settings)
    assert {p.key for p in info.value.problems} == {"db.host", "db.pool_size"}
    with pytest.raises(InputError, match="no such configuration file"):
        watch(tmp_path / "missing.yaml", Settings)
    with pytest.raises(InputError, match="debounce_ms=0"):
        watch(path, Settings, debounce_ms=0)


def test_a_kubernetes_configmap_update_is_seen(tmp_path: Path) -> None:
    # The kubelet writes a new timestamped folder, then renames a `..data` symlink onto it;
    # config.yaml is a symlink through ..data, and never changes itself.
    def publish(version: str, text: str) -> None:
        folder = tmp_path / f"..{version}"
        folder.mkdir()
        (folder / "config.yaml").write_text(text)
        (tmp_path / "..data_tmp").symlink_to(folder.name)
        (tmp_path / "..data_tmp").replace(tmp_path / "..data")

    publish("2024_01", _config(pool=5))
    (tmp_path / "config.yaml").symlink_to("..data/config.yaml")
    with watch(tmp_path / "config.yaml", Settings) as watcher:
        assert watcher.current.db.pool_size == 5
        _change(watcher, lambda: publish("2024_02", _config(pool=6)))
        assert watcher.current.db.pool_size == 6


def test_other_files_in_the_folder_do_not_reload(config: Path) -> None:
    with watch(config, Settings, debounce_ms=5) as watcher:
        (config.parent / "other.yaml").write_text("a: 1\n")
        config.touch()  # an event, same bytes: nothing new
        assert not watcher.wait_for_reload(0.5)
        assert watcher.reloads == 0 and watcher.failures == 0
