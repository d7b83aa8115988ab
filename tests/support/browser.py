"""The web dashboard in a real browser: Debian's Chromium (/usr/bin/chromium) driven by
Playwright, headless, never a browser of Playwright's own; axe-core from web/node_modules.

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        violations = axe(page)            # the serious and critical ones
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
BUNDLE = ROOT / "cfgctl" / "server" / "dashboard" / "index.html"
IMAGES = ROOT / "docs" / "images"
SCREENSHOTS = os.environ.get("CFGCTL_SCREENSHOTS") == "1"


def missing() -> str | None:
    """Why the dashboard cannot be driven here, or None."""
    if not CHROMIUM.is_file():
        return "no /usr/bin/chromium (scripts/test-setup.sh installs Debian's chromium)"
    if not BUNDLE.is_file():
        return "the dashboard is not built (make install runs scripts/build-web.sh)"
    if not AXE.is_file():
        return "web/node_modules/axe-core is not installed (make install runs npm ci)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


@contextmanager
def chromium() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


def axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now. The script is
    evaluated through the DevTools protocol, which the page's CSP does not govern."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;true")
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def screenshot(page: Page, name: str) -> None:
    """docs/images/NAME.png, only when CFGCTL_SCREENSHOTS=1 (tests do not dirty the tree)."""
    if SCREENSHOTS:
        IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMAGES / f"{name}.png"))


DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def page_of(browser: Browser, viewport: dict[str, int], scheme: str = "light") -> Iterator[Page]:
    """A page in a context of its own; at the end, no CSP violation and no script error."""
    context = browser.new_context(viewport=viewport, color_scheme=scheme)  # type: ignore[arg-type]
    page = context.new_page()
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    assert page.evaluate("window.__csp ?? []") == [], "the page broke its Content-Security-Policy"
    assert errors == []
    context.close()


def sign_in(page: Page, token: str) -> None:
    """Sign in on the dashboard's sign-in page with `token`."""
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def no_violations(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page."""
    violations = axe(page)
    assert violations == [], violations
