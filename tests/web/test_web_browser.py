"""The web app in Debian's Chromium against the emulator: onboarding, sync, numbers, drill-downs."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from browser_support import sign_in
from licensewatch.domain.balance import BALANCE_COLUMNS
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import RunningEmulator, start_in_thread
from licensewatch.emulator.state import Tenant
from licensewatch.emulator.truth import ground_truth
from licensewatch.services.accounts import create_account, create_token
from licensewatch.storage.database import make_engine, session_scope
from licensewatch.storage.models import Tenant as TenantRow
from licensewatch.storage.models import UserLicense
from licensewatch.storage.models.accounts import Role
from licensewatch.web import create_app
from web_fixtures import make_settings
from web_server import serve_in_thread

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@dataclass
class Stack:
    base_url: str
    emulator: RunningEmulator
    tenant: Tenant
    info: dict[str, Any]
    app: Any
    engine: Any
    token: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    cert_dir = tmp_path_factory.mktemp("emulator")
    world = build_world(tenants=1, users=60, seed=11, scenario="small-office", cert_dir=cert_dir)
    settings = make_settings(tmp_path_factory.mktemp("webapp"))
    engine = make_engine(settings.database_url)
    create_account(engine, "alice", Role.ADMIN, "admin-password-123456")
    create_account(engine, "victor", Role.VIEWER, "viewer-password-123456")
    token = create_token(engine, "alice", "browser test")
    app = create_app(settings, engine=engine)
    with start_in_thread(world, EmulatorOptions(), cert_dir=cert_dir) as emulator:
        tenant = next(iter(world.tenants.values()))
        info = emulator.info["tenants"][0]
        with serve_in_thread(app) as base_url:
            yield Stack(base_url, emulator, tenant, info, app, engine, token)
            app.state.lw.launcher.join(30)
    engine.dispose()


def fill_onboarding(page: Page, stack: Stack, *, tenant_id: str, secret: str) -> None:
    page.goto(f"{stack.base_url}/tenants/new")
    page.get_by_label("Name", exact=False).first.fill("contoso")
    page.get_by_label("Directory (tenant) ID").fill(tenant_id)
    page.get_by_label("Application (client) ID").fill(stack.info["client_id"])
    page.get_by_label("Client secret Value").fill(secret)
    page.locator("summary").click()
    page.get_by_label("Authority host").fill(stack.emulator.base_url)
    page.get_by_label("Graph endpoint").fill(stack.emulator.base_url)
    page.get_by_label("CA bundle path (on the server)").fill(str(stack.emulator.ca_bundle))


def test_test_connection_shows_each_failure_with_its_fix(browser: Browser, stack: Stack) -> None:
    page = browser.new_page()
    sign_in(page, stack.base_url, "alice", "admin-password-123456")
    tenant_id, secret = stack.tenant.tenant_id, stack.info["client_secret"]
    cases: list[tuple[str, str, set[str] | None, str]] = [
        (str(uuid.uuid4()), secret, None, "token"),  # unknown tenant
        (tenant_id, "Wr0ng~secret.value_not_it_at_all_12345", None, "token"),  # wrong secret
        (tenant_id, secret, set(), "consent"),  # admin consent never granted
    ]
    app = stack.tenant.apps[stack.info["client_id"]]
    for tenant, value, roles, failing in cases:
        saved = set(app.roles)
        if roles is not None:
            app.roles = roles
        try:
            fill_onboarding(page, stack, tenant_id=tenant, secret=value)
            page.get_by_role("button", name="Test connection").click()
            report = page.locator("#diagnostics")
            expect(report).to_contain_text("Connection has problems")
            failed = report.locator(".check-fail").first
            expect(failed.locator(".fix")).to_be_visible()
            assert page.locator("input[name=client_secret]").input_value() == ""
        finally:
            app.roles = saved
        assert failing in ("token", "consent")
    fill_onboarding(page, stack, tenant_id=tenant_id, secret=secret)
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#diagnostics")).to_contain_text("Connection works")
    page.close()


def _cell(page: Page, row: Any, column: str) -> int:
    selector = column if column.startswith("#") else f'[data-col="{column}"]'
    text = row.locator(selector).inner_text()
    return int(text.replace("\u202f", "").replace(" ", ""))


def test_onboard_sync_and_read_the_numbers(browser: Browser, stack: Stack) -> None:
    page = browser.new_page(accept_downloads=True)
    sign_in(page, stack.base_url, "alice", "admin-password-123456")
    fill_onboarding(
        page, stack, tenant_id=stack.tenant.tenant_id, secret=stack.info["client_secret"]
    )
    page.get_by_role("button", name="Save tenant").click()
    expect(page.get_by_role("status")).to_contain_text("Tenant saved")
    expect(page.locator("#credential-state")).to_have_text("client secret: set")
    assert stack.info["client_secret"] not in page.content()

    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_role("heading", name="Sync runs")).to_be_visible()
    stack.app.state.lw.launcher.join(60)
    page.reload()
    expect(page.locator("#runs tbody tr").first).to_contain_text("COMPLETED")

    truth = ground_truth(stack.tenant)
    headers = {"authorization": f"Bearer {stack.token}"}
    api = httpx.get(f"{stack.base_url}/api/v1/balance?tenant=contoso", headers=headers).json()
    api_rows = {r["sku_id"]: r for r in api["rows"]}
    page.goto(f"{stack.base_url}/?tenant=contoso")
    assert len(truth["skus"]) == len(api_rows) > 0
    for sku in truth["skus"]:
        row = page.locator(f'section[data-tenant="contoso"] tr[data-sku="{sku["sku_id"]}"]')
        columns = ("purchased", "consumed", "available") if sku["section"] == "paid" else ()
        shown = {c: _cell(page, row, c) for c in columns}
        from_api = {c: api_rows[sku["sku_id"]][c] for c in columns}
        expected = {c: sku[c] for c in columns}
        assert shown == from_api == expected, sku["sku_part_number"]
        assert api_rows[sku["sku_id"]]["section"] == sku["section"]
    # The cards add up over the paid rows and equal the API's totals (free SKUs apart).
    paid = [s for s in truth["skus"] if s["section"] == "paid"]
    cards = {c: _cell(page, page, f"#total-{c}") for c in ("purchased", "consumed", "available")}
    assert (
        cards == {c: sum(s[c] for s in paid) for c in cards} == {c: api["totals"][c] for c in cards}
    )
    assert cards["available"] == cards["purchased"] + api["totals"]["trial"] - cards["consumed"]

    busiest = max(truth["skus"], key=lambda s: s["consumed"])
    page.locator(f'tr[data-sku="{busiest["sku_id"]}"] a').first.click()
    expect(page.locator("#p-consumed")).to_have_text(str(busiest["consumed"]))
    expect(page.locator("svg.chart")).to_be_visible()

    person = next(u for _, u in stack.tenant.iter_users_from(0) if u.display_name)
    page.goto(f"{stack.base_url}/users")
    page.get_by_placeholder("Start of a name or UPN").fill(person.display_name or "")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#users tbody")).to_contain_text(person.user_principal_name)

    with page.expect_download() as users_csv:
        page.get_by_role("link", name="CSV").click()
    text = Path(users_csv.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    with session_scope(stack.engine, write=False) as session:
        dataset = session.scalar(select(TenantRow.dataset_id).where(TenantRow.name == "contoso"))
        count = session.scalar(
            select(func.count()).select_from(UserLicense).where(UserLicense.dataset_id == dataset)
        )
    assert len(rows) == count
    assert all(r["sku_id"] and r["user_principal_name"] for r in rows)

    page.goto(f"{stack.base_url}/?tenant=contoso")
    with page.expect_download() as balance_xlsx:
        page.get_by_role("link", name="Excel").click()
    workbook = load_workbook(io.BytesIO(Path(balance_xlsx.value.path()).read_bytes()))
    sheet = workbook.active
    assert sheet is not None
    table = list(sheet.iter_rows(values_only=True))
    header, body = table[0], table[1:]
    by_sku = {r[header.index("sku_id")]: r for r in body}
    assert list(header) == list(BALANCE_COLUMNS)  # the one balance schema
    assert {s["sku_id"]: s["consumed"] for s in truth["skus"]} == {
        k: r[header.index("consumed")] for k, r in by_sku.items()
    }
    page.close()

    viewer = browser.new_page()
    sign_in(viewer, stack.base_url, "victor", "viewer-password-123456")
    assert viewer.get_by_role("button", name="Sync now").count() == 0
    for path in ("/tenants/new", "/tenants/contoso", "/accounts"):
        response = viewer.goto(f"{stack.base_url}{path}")
        assert response is not None
        assert response.status == 403, path
        expect(viewer.get_by_role("heading", name="Not allowed")).to_be_visible()
    viewer.close()
