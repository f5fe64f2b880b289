"""A change plan reviewed and approved in Chromium: four-eyes, apply, confirmation, viewers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, expect

from browser_support import sign_in
from licensewatch.domain.plans import WRITE_ROLE
from licensewatch.emulator import mutations
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import start_in_thread
from licensewatch.emulator.state import Tenant
from licensewatch.intelligence.plan_builder import manual_lines
from licensewatch.intelligence.prices import set_price
from licensewatch.services.accounts import create_account
from licensewatch.services.plans import Actor, create_plan, show_plan
from licensewatch.services.tenants import SecretInput, TenantService, TenantSettings
from licensewatch.storage.database import make_engine
from licensewatch.storage.encrypted import keyring_for
from licensewatch.storage.models.accounts import Role
from licensewatch.sync.runner import run_sync
from licensewatch.web import create_app
from web_fixtures import make_settings
from web_server import serve_in_thread

pytestmark = [pytest.mark.browser, pytest.mark.slow]
STANDARD = "O365_BUSINESS_PREMIUM"
PASSWORD = "a-long-password-123456"


@dataclass
class Stack:
    base_url: str
    tenant: Tenant
    engine: object
    plan_id: int
    people: list[str]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    cert_dir = tmp_path_factory.mktemp("emulator")
    world = build_world(tenants=1, users=30, seed=11, scenario="small-office", cert_dir=cert_dir)
    tenant = next(iter(world.tenants.values()))
    settings = make_settings(tmp_path_factory.mktemp("webapp"))
    engine = make_engine(settings.database_url)
    for name, role in (("alice", Role.ADMIN), ("bob", Role.ADMIN), ("victor", Role.VIEWER)):
        create_account(engine, name, role, PASSWORD)
    with start_in_thread(world, EmulatorOptions(), cert_dir=cert_dir) as emulator:
        info = emulator.info["tenants"][0]
        mutations.grant_consent(tenant, [WRITE_ROLE], info["client_id"])
        service = TenantService(engine, keyring_for(engine, settings))
        service.add(
            TenantSettings(
                name="contoso", tenant_id=tenant.tenant_id, client_id=info["client_id"],
                credential=SecretInput(info["client_secret"]),
                authority_host=emulator.base_url, graph_endpoint=emulator.base_url,
                ca_bundle=str(emulator.ca_bundle),
            )
        )  # fmt: skip
        tenant_pk = service.show("contoso").id
        assert run_sync(engine, tenant_pk, service.connection_for("contoso"), mode="full").ok
        set_price(engine, STANDARD, "12.50", "EUR", "monthly")
        people = sorted(
            u.user_principal_name
            for _, u in tenant.iter_users_from(0)
            if any(tenant.products[a.sku_id].part_number == STANDARD for a in u.assignments)
        )[:2]
        lines = manual_lines(engine, "contoso", STANDARD, people)
        plan_id = create_plan(engine, "contoso", lines, Actor("alice", "127.0.0.1"))
        app = create_app(settings, engine=engine)
        with serve_in_thread(app) as base_url:
            yield Stack(base_url, tenant, engine, plan_id, people)
    engine.dispose()


def test_review_approve_apply_with_four_eyes(browser: Browser, stack: Stack) -> None:
    alice = browser.new_context().new_page()
    sign_in(alice, stack.base_url, "alice", PASSWORD)
    alice.goto(f"{stack.base_url}/tenants/contoso")
    alice.get_by_label("Allow approved change plans to change licences").check()
    alice.get_by_label("Four-eyes", exact=False).check()
    alice.get_by_role("button", name="Save", exact=True).click()
    expect(alice.get_by_role("status")).to_contain_text("Licence write settings saved")

    alice.get_by_role("link", name="Plans").click()
    alice.get_by_role("link", name=f"#{stack.plan_id}").click()
    lines = alice.locator("#lines tbody tr")
    expect(lines).to_have_count(2)
    expect(lines.first).to_contain_text("remove Microsoft 365 Business Standard")
    expect(lines.first).to_contain_text("12.50 EUR")
    expect(alice.locator("#saving")).to_contain_text("25.00 EUR a month, 300.00 EUR a year")
    alice.get_by_role("button", name="Approve").click()
    expect(alice.get_by_role("alert")).to_contain_text("another administrator must approve")

    viewer = browser.new_context().new_page()
    sign_in(viewer, stack.base_url, "victor", PASSWORD)
    viewer.goto(f"{stack.base_url}/plans/{stack.plan_id}")
    expect(viewer.locator("#lines tbody tr")).to_have_count(2)
    expect(viewer.get_by_role("button", name="Approve")).to_have_count(0)

    bob = browser.new_context().new_page()
    sign_in(bob, stack.base_url, "bob", PASSWORD)
    bob.goto(f"{stack.base_url}/plans/{stack.plan_id}")
    bob.get_by_role("button", name="Approve").click()
    expect(bob.get_by_role("status")).to_contain_text("Plan approved")
    expect(bob.locator("#plan-status")).to_have_text("approved")
    bob.get_by_role("button", name="Apply").click()
    expect(bob.get_by_role("status")).to_contain_text("Applying")
    for _ in range(60):  # the apply thread, then its delta sync
        if show_plan(stack.engine, stack.plan_id).confirmed_at:  # type: ignore[arg-type]
            break
        bob.wait_for_timeout(250)
    bob.reload()
    expect(bob.locator("#plan-status")).to_have_text("applied")
    expect(bob.locator("#lines tbody tr").filter(has_text="confirmed")).to_have_count(2)
    for upn in stack.people:
        user = stack.tenant.user(upn)
        assert user is not None
        assert all(stack.tenant.products[a.sku_id].part_number != STANDARD
                   for a in user.assignments)  # fmt: skip
    expect(bob.get_by_role("button", name="Undo applied lines")).to_be_visible()
    for page in (alice, viewer, bob):
        page.context.close()
