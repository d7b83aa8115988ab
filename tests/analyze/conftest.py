"""A real Prometheus scraping the sample exporter, shared by the tests of a test process.

Prometheus takes ~7 s before its first scrape (its service discovery hands over targets after
5 s), so it is started in the background as soon as collection shows that a selected test uses
the `prometheus` fixture: by the time such a test runs, it is often ready. Each xdist worker
starts its own at collection (side by side); each stops when its session ends.
"""

from __future__ import annotations

import tempfile
import threading
from concurrent.futures import Future
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.prometheus import PROMETHEUS, Prometheus, SampleExporter

_STACK = ExitStack()
_booted: Future[Prometheus] | None = None


def _boot(future: Future[Prometheus]) -> None:
    try:
        folder = Path(_STACK.enter_context(tempfile.TemporaryDirectory(prefix="prometheus-")))
        exporter = _STACK.enter_context(SampleExporter())
        prom = _STACK.enter_context(Prometheus(folder, [exporter.address]))
        prom.wait_for_samples("sample_latency_seconds", 3)
        future.set_result(prom)
    except BaseException as exc:  # noqa: BLE001 (handed to the test that waits for it)
        future.set_exception(exc)


def _start() -> Future[Prometheus]:
    global _booted
    if _booted is None:
        _booted = Future()
        threading.Thread(target=_boot, args=(_booted,), name="prometheus", daemon=True).start()
    return _booted


def pytest_collection_finish(session: pytest.Session) -> None:
    if PROMETHEUS is not None and any(
        "prometheus" in getattr(item, "fixturenames", ()) for item in session.items
    ):
        _start()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _booted is not None:
        _booted.exception()  # the boot is over, whichever way, before it is undone
    _STACK.close()


@pytest.fixture(scope="session")
def prometheus() -> Prometheus:
    """Prometheus with at least 3 samples of every sample metric (1 scrape a second)."""
    if PROMETHEUS is None:
        pytest.skip(
            "prometheus is not installed: `make test` installs Debian's package "
            "(scripts/test-setup.sh, as root); or apt-get install prometheus"
        )
    return _start().result(timeout=60)
