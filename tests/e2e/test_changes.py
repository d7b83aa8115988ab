"""The change request and history pages in Chromium against the real `cfgctl serve` of
tests/support/dashboard.py: the author cannot approve their own change (the button says why,
the server refuses too), an approver approves and merges, the rollout follows an agent's report,
the history shows the merge with its change request, and a revert opens a change request.
axe-core at 1280 and 390 px; CFGCTL_SCREENSHOTS=1 saves the pictures of docs/dashboard.md."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install)")

import httpx2
from playwright.sync_api import Page, expect

from tests.support.browser import PHONE, no_violations, screenshot
from tests.support.dashboard import Dashboard

MOVES_BRANCH = True  # it merges: tests/e2e/conftest.py runs it after the modules that only read


def _headers(dashboard: Dashboard, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {dashboard.tokens[subject]}"}


def _open(page: Page, dashboard: Dashboard, subject: str, fragment: str) -> None:
    page.goto(dashboard.url + fragment)
    page.get_by_label("API token").fill(dashboard.tokens[subject])
    page.get_by_role("button", name="Sign in").click()


def test_the_author_cannot_approve_their_own_change(
    desktop: Page, phone: Page, dashboard: Dashboard
) -> None:
    _open(desktop, dashboard, "erin", "#/change/1")
    expect(desktop.get_by_role("heading", name="#1 More payments replicas")).to_be_visible()
    approve = desktop.get_by_role("button", name="Approve", exact=True)
    expect(approve).to_be_disabled()
    expect(approve).to_have_accessible_description(
        "you opened change request #1: nobody approves their own change"
    )
    diff = desktop.get_by_role("table", name="payments@prod (changed, 1 key)")
    expect(diff.get_by_role("row", name="replicas changed from 6 to 12")).to_be_visible()
    rule = desktop.get_by_role("listitem").filter(has_text="prod-needs-sre")
    expect(rule).to_contain_text("not met")  # two SREs must approve
    no_violations(desktop)
    screenshot(desktop, "dashboard-change-1280")
    # The server refuses it anyway.
    refused = httpx2.post(dashboard.server.api("/changes/1/approve"),
                          headers=_headers(dashboard, "erin"), timeout=10)  # fmt: skip
    assert refused.status_code == 403, refused.text
    _open(phone, dashboard, "olivia", "#/changes")
    no_violations(phone)
    phone.get_by_role("link", name="#1 More payments replicas").click()
    expect(phone.get_by_role("button", name="Approve", exact=True)).to_be_disabled()
    no_violations(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "dashboard-change-390-dark")


def _propose(dashboard: Dashboard) -> int:
    """dana's change request: 3 replicas for notifications in staging."""
    api, dana = dashboard.server.api, _headers(dashboard, "dana")
    read = httpx2.get(api("/config/notifications/staging"), headers=dana, timeout=10)
    headers = {**dana, "If-Match": read.headers["etag"], "X-Cfgctl-Title": "Notifications: 3"}
    opened = httpx2.patch(api("/config/notifications/staging"), json={"replicas": 3},
                          headers=headers, timeout=30)  # fmt: skip
    assert opened.status_code == 202, opened.text
    return int(opened.json()["id"])


def _report(dashboard: Dashboard, commit: str) -> None:
    """An agent that runs the merged commit for notifications in staging."""
    report = {
        "agent": "web-2",
        "time": "2026-01-01T00:00:00Z",
        "targets": [
            {"target": "notifications-staging", "service": "notifications", "env": "staging",
             "commit": commit, "state": "applied"}
        ],
    }  # fmt: skip
    sent = httpx2.post(dashboard.server.api("/agents/web-2/report"), json=report,
                       headers=_headers(dashboard, "agent-web-1"), timeout=10)  # fmt: skip
    assert sent.status_code == 204, sent.text


def test_approve_merge_follow_the_rollout_see_the_history_and_revert(
    desktop: Page, phone: Page, dashboard: Dashboard
) -> None:
    number = _propose(dashboard)
    page = desktop
    _open(page, dashboard, "priya", f"#/change/{number}")
    merge = page.get_by_role("button", name="Merge")
    expect(merge).to_be_disabled()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Approved")).to_be_visible()
    expect(merge).to_be_enabled()
    merge.click()
    expect(page.get_by_role("heading", name=f"#{number} Notifications: 3 merged")).to_be_visible()
    rollout = page.get_by_role("region", name="Rollout of", exact=False)
    expect(rollout).to_contain_text("No agent reports a target")
    merged = httpx2.get(dashboard.server.api(f"/changes/{number}"),
                        headers=_headers(dashboard, "priya"), timeout=10).json()["merged"]  # fmt: skip
    _report(dashboard, merged)
    expect(rollout).to_contain_text("1 of 1 target converged", timeout=10_000)  # polled
    # The history: the merge, from the change request, then revert it (dana may edit).
    _open(phone, dashboard, "dana", "#/history/notifications/staging?key=replicas")
    first = phone.get_by_role("listitem").filter(has_text=f"change request #{number}").first
    expect(first).to_be_visible()
    expect(first.get_by_role("row", name="replicas changed from 1 to 3")).to_be_visible()
    no_violations(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "dashboard-history-390-dark")
    page.goto(dashboard.url + "#/history/notifications/staging")  # priya, still signed in
    revert = page.get_by_role("button", name="Revert", exact=False).first
    expect(revert).to_be_disabled()  # an approver does not edit
    no_violations(page)
    screenshot(page, "dashboard-history-1280")
    first.get_by_role("button", name="Revert", exact=False).click()
    expect(phone.get_by_role("heading", name="Revert", exact=False)).to_be_visible()
    opened = int(phone.url.rsplit("/", 1)[1])
    assert opened > number
    expect(phone.get_by_role("table", name="notifications@staging", exact=False)).to_contain_text(
        "replicas"
    )
    # Leave the branch's open change requests as they were for the other modules.
    closed = httpx2.post(dashboard.server.api(f"/changes/{opened}/reject"),
                         headers=_headers(dashboard, "dana"), timeout=10)  # fmt: skip
    assert closed.status_code == 200, closed.text
