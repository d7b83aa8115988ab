"""The Service page in Chromium against a real `cfgctl serve`: payments in staging, whose
layer holds a value its schema refuses, as a form from the schema: the server's error on its
field, the browser's validation (no eval: the CSP allows none) on an edit, a valid edit and a
reset to inherited each becoming a change request with its impact; read-only for a viewer;
axe-core at 1280 px (light) and 390 px (dark). CFGCTL_SCREENSHOTS=1 saves the pictures."""

from __future__ import annotations

import re

import httpx2
import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install)")

from playwright.sync_api import Locator, Page, expect

from tests.support.browser import axe, screenshot
from tests.support.dashboard import Dashboard


def _open(page: Page, dashboard: Dashboard, subject: str, pair: str) -> None:
    page.goto(dashboard.url + f"#/service/{pair}")
    page.get_by_label("API token").fill(dashboard.tokens[subject])
    page.get_by_role("button", name="Sign in").click()
    service, env = pair.split("/")
    expect(page.get_by_role("heading", name=f"{service} in {env}")).to_be_visible()


def _field(page: Page, path: str) -> Locator:
    """The form group of the field at `path` (db.host): its input, errors and origin."""
    field_id = "root_" + path.replace(".", "_")
    return page.locator(".form-group").filter(has=page.locator(f"#{field_id}")).last


def test_fix_staging_through_the_form(desktop: Page, dashboard: Dashboard) -> None:
    page = desktop
    _open(page, dashboard, "pat", "payments/staging")
    # the server serves the broken configuration on demand, its error on the field at fault
    expect(page.get_by_role("alert")).to_contain_text("fails its schema")
    replicas = _field(page, "replicas")
    expect(replicas).to_contain_text('expected integer, got string "many"')
    expect(replicas).to_contain_text("set here")
    expect(_field(page, "server.host")).to_contain_text("inherited from base")
    found = axe(page)
    assert found == [], found
    screenshot(page, "dashboard-service-invalid-1280")
    # the browser's validation (cfworker, no eval) refuses what the schema refuses, on the field
    replicas.locator("input").fill("0")
    expect(replicas).to_contain_text("1")  # the minimum, in the message
    expect(replicas.locator(".error-detail")).to_be_visible()
    propose = page.get_by_role("button", name="Propose the change")
    propose.click()
    expect(page.locator(".opened")).to_have_count(0)  # nothing sent
    # a valid value becomes a change request, with its impact
    replicas.locator("input").fill("3")
    expect(replicas.locator(".error-detail")).to_have_count(0)
    propose.click()
    opened = page.get_by_role("status").filter(has_text="Change request opened")
    expect(opened).to_contain_text("payments@staging changed: replicas")
    link = opened.get_by_role("link")
    expect(link).to_have_attribute("href", re.compile(r"^#/change/\d+$"))
    first = int(str(link.get_attribute("href")).rsplit("/", 1)[1])
    found = axe(page)
    assert found == [], found
    screenshot(page, "dashboard-service-1280")
    # reset to inherited: remove replicas from staging's layer (it then inherits base's 1)
    page.get_by_role("button", name="Reset to inherited: replicas").click()
    expect(opened.get_by_role("link")).to_have_attribute("href", f"#/change/{first + 1}")
    expect(opened).to_contain_text("payments@staging changed: replicas")
    for number in (first, first + 1):  # withdrawn: the other pages count the open ones
        url = dashboard.server.api(f"/changes/{number}/reject")
        headers = {"Authorization": f"Bearer {dashboard.tokens['pat']}"}
        assert httpx2.post(url, headers=headers, timeout=30).status_code == 200


def test_a_viewer_reads_only_at_phone_width(phone: Page, dashboard: Dashboard) -> None:
    page = phone
    _open(page, dashboard, "olivia", "payments/prod")
    expect(page.get_by_text("Read only:")).to_contain_text("role viewer does not include edit")
    expect(page.get_by_role("button", name="Propose the change")).to_be_disabled()
    reset = page.get_by_role("button", name="Reset to inherited: replicas")
    expect(reset).to_be_disabled()
    expect(_field(page, "db.pool_size")).to_contain_text("set here")
    password = page.locator("#root_db_password")
    expect(password).to_have_attribute("type", "password")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide"
    found = axe(page)
    assert found == [], found
    screenshot(page, "dashboard-service-390-dark")
