"""The FastAPI application: API v1 over the snapshots of one repository's branch.

    app = create_app(ServerSettings(repo=Path("cfg"), insecure_local=True))
    uvicorn.run(app)     # or `cfgctl serve`, which starts `app_from_env` in each worker

Everything lives under /api/v1/, described at /api/v1/openapi.json (browsable at
/api/v1/docs); every error is a problem document (problems.py). The app's state holds its
`ServerSettings`, its `Security` (security.py: the seam of authentication, authorization and
audit), the `ServedRepo` (repository.py) and the `HeadWatcher` (longpoll.py), whose task runs for
the app's lifespan. In remote mode (`--remote`) the `ServedRepo` is a clone of the remote and
its `Upstream` (upstream.py) fetches it every interval in a second task, and at once on a signed
webhook (hooks.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from cfgctl import telemetry
from cfgctl._version import __version__
from cfgctl.server import (
    analytics,
    authz,
    changes,
    changeviews,
    compare,
    compat,
    configs,
    hooks,
    newservices,
    overview,
    problems,
    promotions,
    reads,
    reports,
    reverts,
    rollouts,
    webapp,
    whoami,
)
from cfgctl.server.access import security_for
from cfgctl.server.longpoll import HeadWatcher
from cfgctl.server.loopbackhost import LoopbackHostMiddleware
from cfgctl.server.problems import PROBLEM_MEDIA_TYPE
from cfgctl.server.repository import ServedRepo
from cfgctl.server.requestid import RequestIdMiddleware
from cfgctl.server.security import Security
from cfgctl.server.settings import ServerSettings
from cfgctl.server.warmreads import WarmReads, WarmStats

__all__ = ["API_PREFIX", "app_from_env", "create_app"]

API_PREFIX = "/api/v1"
DESCRIPTION = """\
The configuration of every service in every environment, as the config repository's branch
holds it: rendered (every layer merged), validated, secrets masked. Lists are paged with
`?limit=&cursor=` (the next page in `next_cursor` and a `Link: rel="next"` header). Every read
has a strong `ETag` and answers `If-None-Match` with 304; the commit read is the
`Cfgctl-Commit` header. Errors are RFC 9457 problem documents whose `type` is
`urn:cfgctl:problem:<kind>` and whose `exit_code` is the CLI's for the same failure.
"""


def create_app(settings: ServerSettings, *, security: Security | None = None) -> FastAPI:
    """The application for `settings`; `InputError` when the repository or branch cannot be
    served; `EnvError` when the state directory of its tokens cannot be made."""
    security = security if security is not None else security_for(settings)
    # Spans of the writes (OpenTelemetry loaded on first use), beside the tokens and audit log
    # when a state folder is given (ProtectSystem=strict leaves no home to write to).
    traces = None if settings.state_dir is None else settings.state_dir / "traces"
    telemetry.setup("cfgctl-serve", trace_dir=traces, eager=False)
    served = ServedRepo.open(settings)
    watcher = HeadWatcher(served.read_head, settings.poll_interval)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        watcher.start()
        fetching = None
        if served.upstream is not None:
            fetching = asyncio.create_task(served.upstream.keep_fetching(watcher.poll))
        try:
            yield
        finally:
            if fetching is not None:
                fetching.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fetching
            await watcher.stop()
            served.close()

    app = FastAPI(
        title="cfgctl",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry instrumentation asks the environment on every request
        # whether a provider is configured: off (cfgctl's traces are configured where it runs).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.security = security
    app.state.served = served
    app.state.watcher = watcher
    app.state.warm = WarmStats()  # what WarmReads answered
    problems.install(app)
    app.add_middleware(WarmReads)  # innermost: behind the host check and the request id
    if settings.insecure_local:
        app.add_middleware(LoopbackHostMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(reads.router, prefix=API_PREFIX)
    app.include_router(configs.router, prefix=API_PREFIX)
    app.include_router(authz.router, prefix=API_PREFIX)
    app.include_router(reports.router, prefix=API_PREFIX)
    app.include_router(rollouts.router, prefix=API_PREFIX)
    app.include_router(changes.router, prefix=API_PREFIX)
    app.include_router(changeviews.router, prefix=API_PREFIX)
    app.include_router(reverts.router, prefix=API_PREFIX)
    app.include_router(newservices.router, prefix=API_PREFIX)
    app.include_router(analytics.router, prefix=API_PREFIX)
    app.include_router(hooks.router, prefix=API_PREFIX)
    app.include_router(whoami.router, prefix=API_PREFIX)
    app.include_router(overview.router, prefix=API_PREFIX)
    app.include_router(compare.router, prefix=API_PREFIX)
    app.include_router(promotions.router, prefix=API_PREFIX)
    app.include_router(webapp.router)  # `/` and /_dashboard/: before compat's /{app}/{profile}
    app.include_router(compat.router)  # Spring Cloud Config, at the root: after every API route
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with each error response in application/problem+json only (FastAPI
    adds application/json for the model that describes it)."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for path in doc["paths"].values():
            for operation in path.values():
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {})
                    if PROBLEM_MEDIA_TYPE in content:
                        content.pop("application/json", None)
        app.openapi_schema = doc
    return app.openapi_schema


def app_from_env() -> FastAPI:
    """The factory uvicorn calls in each worker: settings from CFGCTL_SERVE_SETTINGS."""
    app = create_app(ServerSettings.from_env())
    _tune_gc()
    return app


def _tune_gc() -> None:
    """A server holding 10,000 long polls has millions of live objects; Python's collector
    would walk them again and again while a commit wakes the waiters (measured: 0.5 s of a
    1.3 s wake). What was made at start (modules, the app) is frozen out of its reach; the
    youngest generation is collected every 50,000 allocations rather than every 700, the older
    ones after 100 of those rather than 10 (benchmarks/serve_bench.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 100, 100)
