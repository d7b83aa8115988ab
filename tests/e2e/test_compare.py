"""The Compare page in Chromium against the real `cfgctl serve` of tests/support/dashboard.py:
payments in staging and prod side by side (differences only, then every key), each value with
its file:line, a key selected with the keyboard, the promotion change request opened (and
withdrawn again, so the other modules see the fixture's change requests only); a viewer sees
the action disabled with the reason; every service at a phone's width, dark. axe-core on each;
CFGCTL_SCREENSHOTS=1 saves the pictures of docs/dashboard.md."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install)")

from playwright.sync_api import Browser, Page, expect

from tests.support.browser import PHONE, no_violations, page_of, screenshot
from tests.support.dashboard import EXTRA, Dashboard

TALL = {"width": 1280, "height": 900}  # the comparison and its promotion bar in one view
DIFFERENCES = ["replicas", "log.level", "db.host", "db.pool_size", "public_url"]


@pytest.fixture
def desktop(chromium_browser: Browser) -> Iterator[Page]:
    yield from page_of(chromium_browser, TALL)


def _open(page: Page, dashboard: Dashboard, subject: str, fragment: str) -> None:
    page.goto(dashboard.url + fragment)
    page.get_by_label("API token").fill(dashboard.tokens[subject])
    page.get_by_role("button", name="Sign in").click()


def _withdraw(dashboard: Dashboard, number: int) -> None:
    import httpx2

    headers = {"Authorization": f"Bearer {dashboard.tokens['quinn']}"}
    url = dashboard.server.api(f"/changes/{number}/reject")
    answer = httpx2.post(url, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text


def test_compare_payments_staging_and_prod_and_open_a_promotion(
    desktop: Page, dashboard: Dashboard
) -> None:
    page = desktop
    _open(page, dashboard, "quinn", "#/compare/payments?env=staging&env=prod")
    table = page.get_by_role("region", name="payments: staging, prod")
    expect(table).to_be_visible()
    keys = table.get_by_role("rowheader")
    expect(keys).to_have_count(len(DIFFERENCES))
    for key in DIFFERENCES:
        expect(
            table.get_by_role("row", name=re.compile(rf"^.*{re.escape(key)} differs"))
        ).to_be_visible()
    pool = table.get_by_role("row", name=re.compile(r"db\.pool_size"))
    cells = pool.get_by_role("cell")
    expect(cells.nth(1)).to_contain_text("10")
    expect(cells.nth(1)).to_contain_text("config/base/payments.yaml:5 inherited from base")
    expect(cells.nth(2)).to_contain_text("40")
    expect(cells.nth(2)).to_contain_text("config/prod/payments.yaml:5 set in prod")
    expect(cells.nth(2)).to_have_class("mismatch")
    # staging is invalid (replicas: many): compared all the same, that is how one finds out
    expect(table.get_by_role("row", name=re.compile("replicas"))).to_contain_text("many")
    button = page.get_by_role("button", name="Open a promotion change request")
    expect(button).to_be_disabled()
    expect(page.locator("#promote-why")).to_contain_text("Select the keys to promote")
    no_violations(page)

    page.get_by_label("Show every key").check()
    expect(keys).to_have_count(11)
    expect(table.get_by_role("row", name=re.compile(r"server\.port same"))).to_be_visible()
    assert "all=1" in page.url
    page.get_by_label("Show every key").uncheck()
    expect(keys).to_have_count(len(DIFFERENCES))
    page.go_back()  # each comparison is a history entry
    expect(keys).to_have_count(11)
    expect(page.get_by_label("Show every key")).to_be_checked()
    page.go_forward()
    expect(keys).to_have_count(len(DIFFERENCES))

    # keyboard: focus the key's checkbox and press Space
    box = page.get_by_label("Select payments db.pool_size")
    box.focus()
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    expect(page.get_by_label("Make")).to_have_value("prod")
    expect(page.get_by_label("like", exact=True)).to_have_value("staging")
    expect(button).to_be_enabled()
    no_violations(page)
    screenshot(page, "dashboard-compare-1280")
    button.click()
    opened = page.locator(".opened")
    expect(opened).to_contain_text("opened: prod like staging: payments db.pool_size")
    link = opened.get_by_role("link")
    href = link.get_attribute("href") or ""
    assert re.fullmatch(r"#/change/\d+", href), href
    try:
        expect(box).not_to_be_checked()
        no_violations(page)
    finally:
        _withdraw(dashboard, int(href.rsplit("/", 1)[1]))


def test_every_service_at_a_phone_width_as_a_viewer(phone: Page, dashboard: Dashboard) -> None:
    page = phone
    _open(page, dashboard, "olivia", "#/compare")
    # no environments in the fragment: staging and prod
    expect(page.get_by_role("heading", name="payments")).to_be_visible()
    assert page.url.endswith("#/compare?env=staging&env=prod")
    services = 2 + len(EXTRA)  # log.level and replicas differ in every one
    expect(page.locator(".compare-service")).to_have_count(services)
    page.get_by_label("Select payments db.pool_size").check()
    expect(page.locator("#promote-why")).to_contain_text("does not include edit")
    expect(page.get_by_role("button", name="Open a promotion change request")).to_be_disabled()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px phone"
    no_violations(page)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "dashboard-compare-390-dark")
