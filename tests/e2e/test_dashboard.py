"""The dashboard in Chromium against a real `cfgctl serve`: sign in with a token, see the
overview, filter it, move with the keyboard; axe-core on every page, at 1280 and 390 px, light
and dark. CFGCTL_SCREENSHOTS=1 saves the pictures of docs/dashboard.md."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install)")

from playwright.sync_api import Page, expect

from tests.support.browser import PHONE, no_violations, screenshot, sign_in
from tests.support.dashboard import EXTRA, Dashboard

SERVICES = 2 + len(EXTRA)


def test_sign_in_see_the_overview_and_filter_it(desktop: Page, dashboard: Dashboard) -> None:
    page = desktop
    page.goto(dashboard.url)
    expect(page.get_by_role("heading", name="Sign in to cfgctl")).to_be_visible()
    no_violations(page)
    screenshot(page, "dashboard-sign-in-1280")
    page.get_by_label("API token").fill("cfgctl_0123456789ab_not-a-real-secret")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Sign-in refused")
    assert "{" not in alert.inner_text()  # a sentence, not the problem document
    sign_in(page, dashboard.tokens["olivia"])
    grid = page.get_by_role("grid", name="Services by environment")
    expect(grid).to_be_visible()
    assert "cfgctl_" not in page.url
    expect(page.get_by_role("status")).to_have_text(f"Showing all {SERVICES} services")
    staging = grid.get_by_role("gridcell", name="payments in staging: 1 error", exact=True)
    expect(staging).to_have_attribute("title", "payments in staging; invalid, 1 error")
    prod = grid.get_by_role("gridcell", name="payments in prod: valid 1 change runs head")
    expect(prod).to_have_attribute(
        "title", "payments in prod; valid; 1 pending change request (#1); 1 target run the head"
    )
    behind = grid.get_by_role("gridcell", name="checkout in prod: valid runs ", exact=False)
    expect(behind).not_to_contain_text("head")
    stuck = grid.get_by_role("gridcell", name="gateway in staging:", exact=False)
    expect(stuck).to_contain_text("1 stuck")
    expect(page.get_by_text("olivia (viewer)")).to_be_visible()
    no_violations(page)
    screenshot(page, "dashboard-overview-1280")

    page.get_by_label("Search services").fill("check")
    expect(page.get_by_role("status")).to_have_text(f"Showing 1 of {SERVICES} services")
    expect(grid.get_by_role("rowheader")).to_have_count(1)
    assert "q=check" in page.url
    page.get_by_label("Search services").fill("")
    page.get_by_label("Owner", exact=True).select_option("@acme/platform")
    expect(grid.get_by_role("rowheader")).to_have_count(2)
    page.get_by_label("Owner", exact=True).select_option("")
    page.get_by_label("Problems only").check()
    page.get_by_label("Environment", exact=True).select_option("staging")
    # payments: an error in staging; gateway: a target stuck in staging
    expect(grid.get_by_role("rowheader")).to_have_text(
        ["gateway@acme/platform", "payments@acme/payments"]
    )
    expect(grid.get_by_role("columnheader")).to_have_text(["Service", "staging"])
    no_violations(page)

    # keyboard: into the grid, then right to the staging cell
    grid.get_by_role("rowheader").nth(1).focus()
    page.keyboard.press("ArrowRight")
    focused = page.evaluate("document.activeElement.title")
    assert focused == "payments in staging; invalid, 1 error"
    page.keyboard.press("ArrowUp")
    focused = page.evaluate("document.activeElement.title")
    assert focused.startswith("gateway in staging; valid; 1 target run "), focused


def test_phone_width_dark_theme_and_a_token_scoped_to_one_service(
    phone: Page, dashboard: Dashboard
) -> None:
    page = phone
    page.goto(dashboard.url + "#/overview")
    sign_in(page, dashboard.tokens["sam"])
    # sam reads search@* only: the overview shows search and nothing of the others
    grid = page.get_by_role("grid")
    expect(grid.get_by_role("rowheader")).to_have_text(["search@acme/search"])
    expect(page.get_by_role("status")).to_have_text("Showing all 1 service")
    expect(page.get_by_text("sam (viewer)")).to_be_visible()
    no_violations(page)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, dashboard.tokens["olivia"])
    expect(page.get_by_role("grid")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)"
    )
    assert width <= PHONE["width"], (
        f"{wide} the page is {width} px wide on a {PHONE['width']} px phone"
    )
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(13, 17, 23)"  # the dark theme
    no_violations(page)
    screenshot(page, "dashboard-overview-390-dark")


def test_the_server_serves_only_the_bundle_and_the_api(desktop: Page, dashboard: Dashboard) -> None:
    answer = desktop.request.get(dashboard.url)
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    spring = desktop.request.get(dashboard.server.url + "/payments/prod")
    assert spring.status == 401  # the Spring route answers, behind the token like the API
