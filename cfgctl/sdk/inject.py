"""Injecting the current configuration: a FastAPI dependency, a Flask extension, a decorator.

    get_settings = provider(Settings, "config.yaml")       # loads now; ConfigError if invalid

    @app.get("/pool")                                      # FastAPI
    def pool(settings: Annotated[Settings, Depends(get_settings)]) -> int: ...

    settings_ext = CfgctlSettings(flask_app, model=Settings, path="config.yaml")   # Flask
    current_settings(Settings)                             # inside a request

    @inject(Settings, "config.yaml")                       # any function
    def handle(order: Order, settings: Settings = INJECTED) -> None: ...

Each returns `watcher.current` of ONE `watch` shared per (model, file), so a hot reload reaches
every caller, and every caller sees the same version.

- The shared watcher starts when it is first asked for: by `provider()`, `CfgctlSettings.init_app`
  or `@inject(...)`, i.e. when the app is built. A missing or invalid file raises `ConfigError`
  (an `InputError`) then, not in the first request: a service does not start on a broken file.
- `stop_all()` stops every shared watcher (app shutdown, tests); `Provider.stop()` and
  `CfgctlSettings.stop()` stop one. A provider called after that starts a new watcher, loading
  the file again (and raising `ConfigError` if it is invalid by then).
- Two requests for the same (model, file) with different watch options are refused
  (`InputError`): the one watcher cannot honour both.
- Nothing here imports FastAPI or Flask at import time: `import cfgctl.sdk` stays light.
  `current_settings` imports `flask.current_app` when called.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, cast, overload

from cfgctl.errors import InputError
from cfgctl.sdk.watch import OnChange, OnError, Watcher, watch

if TYPE_CHECKING:
    from flask import Flask

__all__ = [
    "INJECTED",
    "CfgctlSettings",
    "Provider",
    "current_settings",
    "inject",
    "provider",
    "stop_all",
]

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class _Options:
    """The keyword arguments of `watch`, comparable: one shared watcher has one set of them."""

    on_change: OnChange[Any] | None = None
    keys: tuple[str, ...] | None = None
    on_error: OnError | None = None
    debounce_ms: int = 50
    poll_ms: int = 250
    format: str | None = None

    @classmethod
    def of(
        cls,
        on_change: OnChange[Any] | None,
        keys: Iterable[str] | None,
        on_error: OnError | None,
        debounce_ms: int,
        poll_ms: int,
        format: str | None,
    ) -> _Options:
        kept = (keys,) if isinstance(keys, str) else None if keys is None else tuple(keys)
        return cls(on_change, kept, on_error, debounce_ms, poll_ms, format)

    def differences(self, other: _Options) -> str:
        return ", ".join(
            f"{name}={getattr(self, name)!r} (started with {getattr(other, name)!r})"
            for name in self.__dataclass_fields__
            if getattr(self, name) != getattr(other, name)
        )


_Key = tuple[type[Any], str]
_LOCK = threading.Lock()
_WATCHERS: dict[_Key, Watcher[Any]] = {}
_OPTIONS: dict[_Key, _Options] = {}


def _key(model: type[Any], path: str | os.PathLike[str]) -> _Key:
    given: tuple[object, object] = (model, path)
    if isinstance(given[0], str | os.PathLike) and isinstance(given[1], type):
        raise InputError(
            f"({str(given[0])!r}, {given[1].__qualname__}): the model comes first, then the path",
            hint=f"write ({given[1].__qualname__}, {str(given[0])!r}) (load and watch take the "
            "path first; provider, CfgctlSettings and inject take the model first, as FastAPI's "
            "Depends(provider(Settings, path)) reads)",
        )
    file = Path(path)
    # The folder is resolved, not the file: a Kubernetes ConfigMap file is a symlink that moves.
    return (model, str(file.parent.resolve() / file.name))


def _shared(key: _Key, path: Path, model: type[T], options: _Options) -> Watcher[T]:
    """The watcher of `key`, started (the file loaded, ConfigError if invalid) if there is none."""
    with _LOCK:
        found = _WATCHERS.get(key)
        if found is not None:
            if _OPTIONS[key] != options:
                raise InputError(
                    f"{path}: already watched for {model.__qualname__} with other options: "
                    f"{options.differences(_OPTIONS[key])}",
                    hint="one watcher is shared per model and file: pass the same options "
                    "everywhere, or call cfgctl.sdk.watch() for a watcher of your own",
                )
            return cast("Watcher[T]", found)
        watcher = watch(
            path,
            model,
            on_change=options.on_change,
            keys=options.keys,
            on_error=options.on_error,
            debounce_ms=options.debounce_ms,
            poll_ms=options.poll_ms,
            format=options.format,
        )
        _WATCHERS[key] = watcher
        _OPTIONS[key] = options
        return watcher


def _release(key: _Key) -> Watcher[Any] | None:
    with _LOCK:
        _OPTIONS.pop(key, None)
        return _WATCHERS.pop(key, None)


def stop_all(timeout: float = 5.0) -> int:
    """Stop every shared watcher (at app shutdown, between tests); how many were running.

    A provider called afterwards starts its watcher again.
    """
    with _LOCK:
        watchers = list(_WATCHERS.values())
        _WATCHERS.clear()
        _OPTIONS.clear()
    for watcher in watchers:
        watcher.stop(timeout)
    return len(watchers)


class Provider(Generic[T]):
    """A zero-argument callable returning the current configuration of a shared watcher.

    `provider(Settings, path)()` is `watcher.current`: the newest valid version of the file.
    """

    def __init__(self, model: type[T], path: str | os.PathLike[str], options: _Options) -> None:
        self._key = _key(model, path)
        self.model = model
        self.path = Path(path)
        self._options = options
        self._watcher = _shared(self._key, self.path, model, options)

    def __call__(self) -> T:
        watcher = self._watcher
        if _WATCHERS.get(self._key) is not watcher:  # stopped: start it again
            watcher = self._watcher = _shared(self._key, self.path, self.model, self._options)
        return watcher.current

    def __repr__(self) -> str:
        return f"<Provider {self.model.__qualname__} from {self.path}>"

    @property
    def watcher(self) -> Watcher[T]:
        """The shared watcher (its `last_error`, `reloads`...), started again if it was stopped."""
        self()
        return self._watcher

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the shared watcher of this model and file, for every provider of them."""
        found = _release(self._key)
        if found is not None:
            found.stop(timeout)


def provider(
    model: type[T],
    path: str | os.PathLike[str],
    *,
    on_change: OnChange[T] | None = None,
    keys: Iterable[str] | None = None,
    on_error: OnError | None = None,
    debounce_ms: int = 50,
    poll_ms: int = 250,
    format: str | None = None,
) -> Provider[T]:
    """A callable returning the current `model` read from `path`: `Depends(provider(...))`.

    Loads the file now (`ConfigError` if it is invalid) unless a watcher of the same model and
    file runs already, which is then shared. The options are those of `watch`.
    """
    options = _Options.of(on_change, keys, on_error, debounce_ms, poll_ms, format)
    return Provider(model, path, options)


# --- Flask -----------------------------------------------------------------------------------


class CfgctlSettings(Generic[T]):
    """A Flask extension: the current configuration of `path`, for every request of an app.

    `CfgctlSettings(app, model=Settings, path=...)`, or `ext.init_app(app)` in an app factory.
    It is kept in `app.extensions[name]`; `current_settings()` finds it there. Flask has no
    hook for an app's shutdown (`teardown_appcontext` runs after every request): the watcher
    is a daemon thread that ends with the process; call `stop()` (or `stop_all()`) where a
    server offers a shutdown hook, and in tests.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        model: type[T],
        path: str | os.PathLike[str],
        name: str = "cfgctl",
        on_change: OnChange[T] | None = None,
        keys: Iterable[str] | None = None,
        on_error: OnError | None = None,
        debounce_ms: int = 50,
        poll_ms: int = 250,
        format: str | None = None,
    ) -> None:
        _key(model, path)  # the arguments' order, checked before the app is given
        self.model = model
        self.path = Path(path)
        self.name = name
        self._options = _Options.of(on_change, keys, on_error, debounce_ms, poll_ms, format)
        self._provider: Provider[T] | None = None
        if app is not None:
            self.init_app(app)

    def __repr__(self) -> str:
        return f"<CfgctlSettings {self.model.__qualname__} from {self.path}>"

    def init_app(self, app: Flask) -> None:
        """Load the file (`ConfigError` if invalid) and register in `app.extensions[name]`."""
        registered = app.extensions.get(self.name)
        if registered is not None and registered is not self:
            raise InputError(
                f"Flask app {app.name!r}: app.extensions[{self.name!r}] is taken by {registered!r}",
                hint="give each CfgctlSettings of one app its own name=",
            )
        self.provider()
        app.extensions[self.name] = self

    def provider(self) -> Provider[T]:
        """The provider behind `current` (started on first use)."""
        if self._provider is None:
            self._provider = Provider(self.model, self.path, self._options)
        return self._provider

    @property
    def current(self) -> T:
        """The newest valid configuration."""
        return self.provider()()

    @property
    def watcher(self) -> Watcher[T]:
        return self.provider().watcher

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the (shared) watcher; `current` starts it again if read later."""
        if self._provider is not None:
            self._provider.stop(timeout)


@overload
def current_settings(model: None = None, *, name: str = "cfgctl") -> Any: ...
@overload
def current_settings(model: type[T], *, name: str = "cfgctl") -> T: ...
def current_settings(model: type[T] | None = None, *, name: str = "cfgctl") -> T | Any:
    """Inside a Flask request (or app context): the current configuration of the app's extension.

    With `model`, checks that the configuration is one (and types the result for mypy).
    """
    from flask import current_app  # only a Flask app calls this: the SDK never imports Flask

    ext = current_app.extensions.get(name)
    if not isinstance(ext, CfgctlSettings):
        raise InputError(
            f"Flask app {current_app.name!r}: no CfgctlSettings in app.extensions[{name!r}]",
            hint="create CfgctlSettings(app, model=..., path=...) or call its init_app(app) "
            "where the app is built",
        )
    value = ext.current
    if model is not None and not isinstance(value, model):
        raise InputError(
            f"Flask app {current_app.name!r}: app.extensions[{name!r}] holds "
            f"{type(value).__qualname__}, not {model.__qualname__}",
            hint=f"ask for current_settings({type(value).__qualname__}) or pass name=",
        )
    return value


# --- plain functions -------------------------------------------------------------------------


class _Injected:
    def __repr__(self) -> str:
        return "INJECTED"


INJECTED: Any = _Injected()
"""The default of an injected parameter (`settings: Settings = INJECTED`): type checkers then
let callers leave it out. Passing it by keyword is the same as leaving it out."""


def _positions(fn: Callable[..., object], name: str, model: type[Any]) -> int:
    """How many positional arguments leave `name` to a keyword (a large number: keyword only)."""
    params = list(inspect.signature(fn).parameters.values())
    for index, param in enumerate(params):
        if param.name != name:
            continue
        if param.kind is param.POSITIONAL_OR_KEYWORD:
            return index + 1
        if param.kind is param.KEYWORD_ONLY:
            return sys.maxsize
        break  # positional-only, *args: a keyword cannot reach it
    else:
        if any(param.kind is param.VAR_KEYWORD for param in params):
            return sys.maxsize
    raise InputError(
        f"@inject({model.__qualname__}, ...) on {fn.__qualname__}(): no parameter {name!r} "
        "that takes a keyword argument",
        hint=f"add a parameter `{name}: {model.__qualname__} = INJECTED`, or pass "
        "name='the parameter'",
    )


def inject(
    model: type[T],
    path: str | os.PathLike[str],
    *,
    name: str = "settings",
    on_change: OnChange[T] | None = None,
    keys: Iterable[str] | None = None,
    on_error: OnError | None = None,
    debounce_ms: int = 50,
    poll_ms: int = 250,
    format: str | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Pass the current configuration as the keyword argument `name` on every call.

    The file is loaded when the decorator is built (`ConfigError` if invalid); a value the caller
    passes for `name` (by keyword or position) is kept. Works on `async def` functions too.
    """
    source = provider(
        model,
        path,
        on_change=on_change,
        keys=keys,
        on_error=on_error,
        debounce_ms=debounce_ms,
        poll_ms=poll_ms,
        format=format,
    )

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        # Given by the caller: by keyword (INJECTED counts as not given), or by position.
        positions = _positions(fn, name, model)
        call: Callable[..., R] = fn  # the wrappers add a keyword argument P does not know

        if inspect.iscoroutinefunction(fn):
            call_async = cast("Callable[..., Awaitable[Any]]", fn)

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                if kwargs.get(name, INJECTED) is INJECTED and len(args) < positions:
                    kwargs[name] = source()
                return await call_async(*args, **kwargs)

            return cast("Callable[P, R]", run_async)

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            if kwargs.get(name, INJECTED) is INJECTED and len(args) < positions:
                kwargs[name] = source()
            return call(*args, **kwargs)

        return run

    return decorate
