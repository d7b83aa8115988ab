"""One real `cfgctl serve` over a real repository (tests/support/dashboard.py) and one Chromium
for every end-to-end test of the dashboard. Package-scoped, and the package's tests share one
xdist worker (--dist loadgroup), so they run one after the other there and the browser closes
after the last: Playwright's sync API marks the thread's asyncio loop as running while it is
open, which no other test may meet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support import browser as support
from tests.support.dashboard import Dashboard, dashboard_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

HERE = Path(__file__).resolve().parent


# tryfirst: xdist turns the group marker into the node id's "@group" suffix in its own hook
# of the same name, which would otherwise run before this one and find no marker.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    places = [i for i, item in enumerate(items) if HERE in item.path.parents]
    for i in places:
        items[i].add_marker(pytest.mark.xdist_group("dashboard-e2e"))
        items[i].add_marker(pytest.mark.slow)
    # The modules that move the served branch (a merge: `MOVES_BRANCH = True`) run after those
    # that read it, which may count on the head they were built with ("runs head").
    ordered = sorted((items[i] for i in places), key=_moves_branch)
    for i, item in zip(places, ordered, strict=True):
        items[i] = item


def _moves_branch(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    return bool(getattr(module, "MOVES_BRANCH", False))


@pytest.fixture(scope="package")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    if (why := support.missing()) is not None:
        pytest.skip(why)
    with dashboard_server(tmp_path_factory.mktemp("dashboard")) as found:
        yield found


@pytest.fixture(scope="package")
def chromium_browser() -> Iterator[Browser]:
    if (why := support.missing()) is not None:
        pytest.skip(why)
    from playwright.sync_api import expect

    # expect() polls: a page that is ready goes on at once; 5 s (the default) was too short
    # for the analytics page's first computation on a loaded 2-core machine.
    expect.set_options(timeout=20_000)
    with support.chromium() as found:
        yield found


@pytest.fixture
def desktop(chromium_browser: Browser) -> Iterator[Page]:
    """A page at 1280 px, light."""
    yield from support.page_of(chromium_browser, support.DESKTOP)


@pytest.fixture
def phone(chromium_browser: Browser) -> Iterator[Page]:
    """A page at 390 px, dark."""
    yield from support.page_of(chromium_browser, support.PHONE, "dark")
