"""cfgctl.sdk.inject in real apps: a FastAPI app through its TestClient, a Flask app through its
test client, and decorated functions; the file rewritten on disk (atomically, by rename, as
cfgctl writes) and the new value awaited where the app reads it.

No `from __future__ import annotations` here: FastAPI evaluates a string annotation in the module's
globals, where `Annotated[Settings, Depends(source)]` cannot find an app's local `source`.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypedDict, cast

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from flask import Flask

from cfgctl.errors import InputError
from cfgctl.repo.fsutil import atomic_write
from cfgctl.sdk import (
    INJECTED,
    CfgctlSettings,
    ConfigError,
    Provider,
    current_settings,
    inject,
    loads,
    provider,
    stop_all,
)
from tests.sdk.models import Settings, SettingsModel


class Fast(TypedDict):
    debounce_ms: int
    poll_ms: int


FAST: Fast = {"debounce_ms": 5, "poll_ms": 20}  # a reload within tens of milliseconds


def _config(pool: int | str = 10) -> bytes:
    return f"db:\n  host: db.internal\n  pool_size: {pool}\nmode: dev\n".encode()


def _write(path: Path, pool: int | str) -> None:
    atomic_write(path, _config(pool))  # a new file renamed over the old one


def _until(read: Callable[[], object], expected: object, timeout: float = 5.0) -> None:
    """Poll `read()` until it returns `expected`."""
    deadline = time.monotonic() + timeout
    while (seen := read()) != expected:
        assert time.monotonic() < deadline, f"still {seen!r} after {timeout} s, not {expected!r}"
        time.sleep(0.005)


def _rejected(source: Provider[Any], write: Callable[[], object]) -> None:
    """Write, and wait until the shared watcher has judged the update."""
    since = source.watcher.outcomes
    write()
    assert source.watcher.wait_for_reload(5, since=since), "no reload within 5 s"
    assert isinstance(source.watcher.last_error, ConfigError)


@pytest.fixture(autouse=True)
def _stopped() -> Iterator[None]:
    yield
    stop_all()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    _write(path, 10)
    return path


# --- provider and FastAPI --------------------------------------------------------------------


def _fastapi_app(source: Provider[Settings]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        stop_all()  # the app's shutdown ends the watchers

    app = FastAPI(lifespan=lifespan)

    @app.get("/pool")
    def pool(settings: Annotated[Settings, Depends(source)]) -> int:
        return settings.db.pool_size

    @app.get("/host")
    async def host(settings: Annotated[Settings, Depends(source)]) -> str:
        return settings.db.host

    return app


def test_a_fastapi_endpoint_sees_the_reloaded_file(config: Path) -> None:
    source = provider(Settings, config, **FAST)
    with TestClient(_fastapi_app(source)) as client:
        assert client.get("/pool").json() == 10
        assert client.get("/host").json() == "db.internal"
        _write(config, 20)
        _until(lambda: client.get("/pool").json(), 20)
        watcher = source.watcher
        assert watcher.running
    assert not watcher.running  # stopped by the lifespan's stop_all()


def test_an_invalid_update_keeps_the_last_good_value_in_fastapi(config: Path) -> None:
    source = provider(Settings, config, **FAST)
    with TestClient(_fastapi_app(source)) as client:
        _rejected(source, lambda: _write(config, "lots"))
        assert client.get("/pool").json() == 10
        _write(config, 30)
        _until(lambda: client.get("/pool").json(), 30)
        assert source.watcher.last_error is None


def test_an_invalid_file_fails_when_the_provider_is_made(config: Path) -> None:
    _write(config, "lots")
    with pytest.raises(ConfigError) as caught:
        provider(Settings, config)
    assert caught.value.key == "db.pool_size"
    assert stop_all() == 0  # nothing was left running


def test_providers_of_one_model_and_file_share_one_watcher(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(config.parent)
    first = provider(Settings, config)
    second = provider(Settings, "config.yaml")  # the same file, named relative to the cwd
    other_model = provider(SettingsModel, config)
    assert first.watcher is second.watcher
    assert other_model.watcher is not cast(object, first.watcher)
    assert other_model().db.pool_size == first().db.pool_size == 10
    assert stop_all() == 2


def test_threads_asking_at_once_start_one_watcher(config: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        providers = list(pool.map(lambda _: provider(Settings, config), range(32)))
    assert len({id(p.watcher) for p in providers}) == 1
    assert stop_all() == 1


def test_other_watch_options_for_a_shared_watcher_are_refused(config: Path) -> None:
    provider(Settings, config, debounce_ms=5)
    with pytest.raises(InputError, match=r"debounce_ms=10 \(started with 5\)") as caught:
        provider(Settings, config, debounce_ms=10)
    assert "watch()" in (caught.value.hint or "")
    provider(Settings, config, debounce_ms=5, keys=None)  # the same options are fine


def test_the_path_given_first_is_refused_with_the_right_order(config: Path) -> None:
    with pytest.raises(InputError, match="the model comes first") as caught:
        provider(config, Settings)  # type: ignore[arg-type]
    assert f"(Settings, {str(config)!r})" in (caught.value.hint or "")


def test_a_provider_called_after_stop_all_starts_its_watcher_again(config: Path) -> None:
    source = provider(Settings, config, **FAST)
    old = source.watcher
    assert stop_all() == 1
    assert not old.running
    assert source().db.pool_size == 10
    assert source.watcher is not old and source.watcher.running
    _write(config, 40)
    _until(lambda: source().db.pool_size, 40)
    source.stop()
    assert stop_all() == 0


# --- Flask -----------------------------------------------------------------------------------


def _flask_app(ext: CfgctlSettings[Settings] | None = None) -> Flask:
    app = Flask(__name__)
    if ext is not None:
        ext.init_app(app)

    @app.get("/pool")
    def pool() -> dict[str, int]:
        return {"pool": current_settings(Settings).db.pool_size}

    return app


def test_a_flask_view_sees_the_reloaded_file(config: Path) -> None:
    app = Flask(__name__)
    ext = CfgctlSettings(app, model=Settings, path=config, **FAST)

    @app.get("/pool")
    def pool() -> dict[str, int]:
        return {"pool": current_settings(Settings).db.pool_size, "ext": ext.current.db.pool_size}

    client = app.test_client()
    assert client.get("/pool").json == {"pool": 10, "ext": 10}
    _write(config, 20)
    _until(lambda: client.get("/pool").json, {"pool": 20, "ext": 20})
    assert app.extensions["cfgctl"] is ext
    watcher = ext.watcher
    ext.stop()
    assert not watcher.running
    assert client.get("/pool").json == {"pool": 20, "ext": 20}  # started again when read
    assert ext.watcher is not watcher and stop_all() == 1


def test_an_app_factory_and_an_invalid_update_in_flask(config: Path) -> None:
    ext = CfgctlSettings(model=Settings, path=config, **FAST)  # module level, no app yet
    client = _flask_app(ext).test_client()
    assert client.get("/pool").json == {"pool": 10}
    _rejected(ext.provider(), lambda: _write(config, 0))  # pool_size must be at least 1
    assert client.get("/pool").json == {"pool": 10}
    _write(config, 15)
    _until(lambda: client.get("/pool").json, {"pool": 15})


def test_an_invalid_file_fails_at_init_app(config: Path) -> None:
    _write(config, "lots")
    ext = CfgctlSettings(model=Settings, path=config)
    app = Flask(__name__)
    with pytest.raises(ConfigError):
        ext.init_app(app)
    assert "cfgctl" not in app.extensions


def test_current_settings_names_what_is_missing_or_wrong(config: Path) -> None:
    app = _flask_app()
    with app.app_context(), pytest.raises(InputError, match="no CfgctlSettings") as caught:
        current_settings()
    assert "init_app" in (caught.value.hint or "")
    CfgctlSettings(app, model=Settings, path=config)
    with app.app_context():
        assert current_settings().db.pool_size == 10
        with pytest.raises(InputError, match="holds Settings, not SettingsModel"):
            current_settings(SettingsModel)
    with pytest.raises(InputError, match=r"app.extensions\['cfgctl'\] is taken"):
        CfgctlSettings(app, model=SettingsModel, path=config)
    second = CfgctlSettings(app, model=SettingsModel, path=config, name="other")
    with app.app_context():
        assert current_settings(SettingsModel, name="other") is second.current


# --- the decorator ---------------------------------------------------------------------------


def test_a_decorated_function_gets_the_reloaded_file(config: Path) -> None:
    @inject(Settings, config, **FAST)
    def pool(extra: int = 0, settings: Settings = INJECTED) -> int:
        """The pool size, plus `extra`."""
        return settings.db.pool_size + extra

    assert pool.__name__ == "pool" and pool.__doc__ == "The pool size, plus `extra`."
    assert pool() == 10 and pool(1) == 11
    _write(config, 20)
    _until(pool, 20)
    mine = loads(_config(99), Settings)
    assert pool(settings=mine) == 99  # a value the caller gives is kept...
    assert pool(1, mine) == 100  # ...by position too
    assert pool(settings=INJECTED) == 20


def test_an_invalid_update_keeps_the_last_good_value_in_a_function(config: Path) -> None:
    @inject(Settings, config, name="cfg", **FAST)
    def pool(*, cfg: Settings = INJECTED) -> int:
        return cfg.db.pool_size

    _rejected(provider(Settings, config, **FAST), lambda: _write(config, "lots"))
    assert pool() == 10


def test_an_async_function_and_one_with_kwargs(config: Path) -> None:
    @inject(Settings, config)
    async def host(settings: Settings = INJECTED) -> str:
        return settings.db.host

    @inject(Settings, config)
    def keys(**kwargs: Any) -> list[str]:
        return sorted(kwargs)

    assert asyncio.run(host()) == "db.internal"
    assert keys(a=1) == ["a", "settings"]


def test_a_function_without_the_parameter_is_refused(config: Path) -> None:
    with pytest.raises(InputError, match="no parameter 'settings'") as caught:

        @inject(Settings, config)
        def pool(cfg: Settings) -> int:
            return cfg.db.pool_size

    assert "name=" in (caught.value.hint or "")
    with pytest.raises(InputError, match="no parameter 'settings'"):

        @inject(Settings, config)
        def positional(settings: Settings, /) -> int:
            return settings.db.pool_size


def test_an_invalid_file_fails_when_the_function_is_decorated(config: Path) -> None:
    config.write_text("db: [not, a, mapping]\n")
    with pytest.raises(ConfigError):

        @inject(Settings, config)
        def pool(settings: Settings = INJECTED) -> int:
            return settings.db.pool_size
