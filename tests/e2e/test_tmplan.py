"""The Templates and Analytics pages in Chromium against the real `cfgctl serve` of
tests/support/dashboard.py: a new service made from a template through the form becomes a change
request (a bad value refused on its field first; a viewer's button disabled with the reason);
the analytics of payments in prod (analytics.yaml with a CSV source, the agent's audit log)
show the metrics, the deliveries, the change point and the regression's verdict. axe-core at
1280 and 390 px; CFGCTL_SCREENSHOTS=1 saves the pictures of docs/dashboard.md."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install)")

from playwright.sync_api import Page, expect

from tests.support.browser import PHONE, no_violations, screenshot, sign_in
from tests.support.dashboard import Dashboard


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px phone"


def test_a_service_from_a_template_becomes_a_change_request(
    desktop: Page, dashboard: Dashboard
) -> None:
    page = desktop
    page.goto(dashboard.url + "#/templates")
    sign_in(page, dashboard.tokens["tess"])
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="web-service"))
    expect(card.get_by_role("table", name="Parameters of web-service")).to_contain_text("port")
    no_violations(page)
    screenshot(page, "dashboard-templates-1280")
    card.get_by_role("link", name="Create a service from web-service").click()
    expect(page.get_by_role("heading", name="New service from web-service")).to_be_visible()
    page.get_by_label("Service name").fill("billing")
    page.get_by_label("port").fill("0")
    submit = page.get_by_role("button", name="Open a change request")
    expect(submit).to_be_enabled()  # tess may edit billing in every environment
    submit.click()
    expect(page.get_by_label("port")).to_have_accessible_description(
        "The HTTP port. Type: integer, at least 1, at most 65535. Default: 8080. port must be at"
        " least 1"
    )
    expect(page.get_by_label("owners")).to_have_attribute("aria-invalid", "true")
    no_violations(page)
    screenshot(page, "dashboard-templates-form-1280")
    page.get_by_label("port").fill("9000")
    expect(page.get_by_label("port")).not_to_have_attribute("aria-invalid", "true")
    page.get_by_label("owners").fill("@acme/billing")
    submit.click()
    opened = page.get_by_role("heading", name="Change request #", exact=False)
    expect(opened).to_be_visible()
    number = int(opened.inner_text().split("#")[1].split()[0])
    expect(page.get_by_role("status")).to_contain_text("opened")
    expect(page.locator(".opened")).to_contain_text("billing@prod")
    no_violations(page)
    headers = {"Authorization": f"Bearer {dashboard.tokens['tess']}"}
    change = page.request.get(dashboard.server.api(f"/changes/{number}"), headers=headers).json()
    assert (change["author"], change["state"]) == ("tess", "open")
    assert change["title"] == "new service billing from template web-service"
    # leave the shared server as it was: the author withdraws it
    closed = page.request.post(dashboard.server.api(f"/changes/{number}/reject"), headers=headers)
    assert closed.status == 200, closed.text()


def test_the_analytics_of_payments_in_prod(desktop: Page, dashboard: Dashboard) -> None:
    page = desktop
    page.goto(dashboard.url + "#/analytics")
    sign_in(page, dashboard.tokens["olivia"])
    page.get_by_label("Service").select_option("payments")
    page.get_by_label("Environment").select_option("prod")
    page.get_by_label("Period").select_option("2d")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Analytics of payments in prod")).to_be_visible()
    assert "#/analytics/payments/prod?period=2d&window=30m" in page.url
    chart = page.get_by_role("img", name="latency_ms, latency_ms")
    expect(chart).to_be_visible()
    expect(chart.locator(".delivery line")).to_have_count(2)
    expect(chart.locator(".shift line")).to_have_count(1)
    events = page.get_by_role(
        "table", name="Change points and deliveries of latency_ms", exact=False
    )
    expect(events.get_by_role("rowheader")).to_have_text(["delivery", "change point", "delivery"])
    verdicts = page.get_by_role("table", name="The verdicts of", exact=False).first
    expect(verdicts.get_by_role("row").nth(1)).to_contain_text("regression")
    no_violations(page)
    screenshot(page, "dashboard-analytics-1280")


def test_phone_width_a_viewer_and_the_analytics(phone: Page, dashboard: Dashboard) -> None:
    page = phone
    page.goto(dashboard.url + "#/templates/web-service")
    sign_in(page, dashboard.tokens["olivia"])
    page.get_by_label("Service name").fill("billing")
    submit = page.get_by_role("button", name="Open a change request")
    expect(submit).to_be_disabled()  # olivia may not edit: the reason is the description
    expect(submit).to_have_accessible_description(
        "Not allowed: the token's role viewer does not include edit"
    )
    _fits(page)
    no_violations(page)
    screenshot(page, "dashboard-templates-390-dark")

    page.goto(dashboard.url + "#/analytics/payments/prod?period=2d")
    expect(page.get_by_role("img", name="errors, errors")).to_be_visible()
    _fits(page)
    no_violations(page)
    screenshot(page, "dashboard-analytics-390-dark")
    points = page.get_by_text("Every point as a table", exact=False).first
    points.click()  # rendered when opened: 1,000 rows a series
    expect(page.get_by_role("table", name="Every point of latency_ms", exact=False)).to_be_visible()
    expect(page.get_by_role("table", name="Every point of latency_ms", exact=False).get_by_role(
        "row")).to_have_count(1001)  # fmt: skip
    _fits(page)
    page.goto(dashboard.url + "#/analytics/search/prod")
    expect(page.get_by_role("heading", name="errors")).to_be_visible()
    expect(page.locator(".field-error").first).to_contain_text("search-prod.csv")
