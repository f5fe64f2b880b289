"""In Chromium: the report's style applies under the CSP, the header fits 768 px, navigation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage

from browser_support import chromium, sign_in
from web_fixtures import ADMIN_PASSWORD, WebEnv
from web_seed import E3, user_id

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def test_report_is_styled_under_the_csp(browser: Browser, web: WebEnv) -> None:
    page = browser.new_page()
    sign_in(page, web.base_url, "alice", ADMIN_PASSWORD)
    refused: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", watch)
    response = page.goto(f"{web.base_url}/report?tenant=contoso")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "style-src 'self' 'sha256-" in policy
    assert "unsafe-inline" not in policy
    table = page.locator("table").first
    assert table.evaluate("t => getComputedStyle(t).borderCollapse") == "collapse"
    header = page.locator("th").first
    assert header.evaluate("h => getComputedStyle(h).backgroundColor") == "rgb(246, 248, 250)"
    assert refused == []
    # Every other page keeps the strict policy: no inline style allowed there.
    other = page.goto(f"{web.base_url}/costs")
    assert other is not None
    assert "style-src 'self';" in other.headers["content-security-policy"]
    page.close()


@pytest.mark.parametrize("width", [768, 1024, 1440])
def test_header_fits_the_window(browser: Browser, web: WebEnv, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    sign_in(page, web.base_url, "alice", ADMIN_PASSWORD)
    for path in ("/", "/changes", f"/tenants/contoso/users/{user_id(1)}"):
        page.goto(f"{web.base_url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (width, path, overflow)
        for link in page.locator("header.topbar a").all():
            box = link.bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= width, (width, path, link.inner_text())
    page.close()


def test_navigation_marks_the_section(browser: Browser, web: WebEnv) -> None:
    page = browser.new_page()
    sign_in(page, web.base_url, "alice", ADMIN_PASSWORD)
    expected = {
        f"/tenants/contoso/products/{E3}": "Dashboard",
        f"/tenants/contoso/users/{user_id(1)}": "Users",
        "/changes": "Changes",
        "/tenants/contoso": "Tenants",
        "/api/docs": "API",
    }
    for path, label in expected.items():
        page.goto(f"{web.base_url}{path}")
        current = page.locator("header.topbar [aria-current=page]")
        assert current.all_inner_texts() == [label], path
    page.close()
