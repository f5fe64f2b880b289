"""Sign in with Microsoft in Debian's Chromium: Entra's form, the role, sign-out, a refusal."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from sso_fixtures import SsoStack
from web_fixtures import add_contoso, make_settings
from web_seed import seed_inventory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _through_entra(browser: Browser, sso: SsoStack, person: str) -> Page:
    # The emulator's TLS certificate comes from its own test CA, which Chromium does not know.
    page = browser.new_context(ignore_https_errors=True).new_page()
    page.goto(f"{sso.base_url}/login")
    page.get_by_role("link", name="Sign in with Microsoft").click()
    page.get_by_label("Email, phone, or Skype").fill(sso.setup.people[person])
    page.get_by_label("Password").fill(sso.setup.password)
    page.get_by_role("button", name="Sign in").click()
    return page


def test_an_admin_signs_in_with_microsoft_and_out_again(browser: Browser, sso: SsoStack) -> None:
    page = _through_entra(browser, sso, "admin")
    expect(page.get_by_role("heading", name="Licence balance")).to_be_visible()
    expect(page.get_by_text(sso.setup.people["admin"])).to_be_visible()
    page.goto(f"{sso.base_url}/accounts")
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in with Microsoft")).to_be_visible()
    page.goto(f"{sso.base_url}/")
    expect(page).to_have_url(f"{sso.base_url}/login?next=/")


def test_a_person_without_a_role_is_refused_with_the_fix(browser: Browser, sso: SsoStack) -> None:
    page = _through_entra(browser, sso, "norole")
    expect(page.locator("#sso-error")).to_contain_text("licensewatch.Viewer")
    page.goto(f"{sso.base_url}/")
    expect(page).to_have_url(f"{sso.base_url}/login?next=/")


def test_a_viewer_sees_the_dashboard_but_not_the_admin_pages(
    browser: Browser, sso: SsoStack
) -> None:
    page = _through_entra(browser, sso, "viewer")
    expect(page.get_by_role("heading", name="Licence balance")).to_be_visible()
    response = page.goto(f"{sso.base_url}/accounts")
    assert response is not None
    assert response.status == 403


def test_a_viewer_in_a_scope_group_sees_only_its_tenant(browser: Browser, sso: SsoStack) -> None:
    settings = make_settings(sso.home)
    for name in ("contoso", "fabrikam"):
        add_contoso(sso.engine, settings, name)
        seed_inventory(sso.engine, name)
    sso.configure(scope_groups={sso.setup.viewers_group: ("contoso",)})
    page = _through_entra(browser, sso, "viewer")
    expect(page.get_by_role("heading", name="Licence balance")).to_be_visible()
    expect(page.locator("main")).to_contain_text("contoso")
    expect(page.locator("main")).not_to_contain_text("fabrikam")
    response = page.goto(f"{sso.base_url}/users?tenant=fabrikam")
    assert response is not None
    assert response.status == 404
