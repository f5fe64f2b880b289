"""The Savings and Renewals pages in Debian's Chromium over two real syncs of an emulated tenant."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, update

from browser_support import sign_in
from database_fixtures import add_tenant
from emulator_fixtures import connect
from licensewatch.emulator import mutations
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import start_in_thread
from licensewatch.emulator.usage_reports import refresh_date
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.retry import RetryPolicy
from licensewatch.intelligence.prices import set_price
from licensewatch.intelligence.recommendations import Recommendation, tenant_recommendations
from licensewatch.intelligence.renewals import PLAN_COLUMNS, RenewalPlan, renewal_plans
from licensewatch.services.accounts import create_account
from licensewatch.storage.database import make_engine, session_scope
from licensewatch.storage.models import SkuSnapshot, utcnow
from licensewatch.storage.models.accounts import Role
from licensewatch.sync.runner import run_sync
from licensewatch.web import create_app
from web_fixtures import make_settings
from web_server import serve_in_thread

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "admin-password-123456"
PRICES = {"SPE_E3": ("36.00", "monthly"), "SPE_E5": ("684.00", "annual")}
PRICES |= {"ENTERPRISEPACK": ("23.00", "monthly"), "POWER_BI_PRO": ("12.00", "monthly")}


@dataclass
class Site:
    base_url: str
    engine: Engine
    tenant: str
    as_of: str  # the emulator's usage report refresh date


def _client(connection: GraphConnection) -> GraphClient:
    return GraphClient(connection, retry=RetryPolicy(max_attempts=3, sleep=lambda _s: None))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    cert_dir = tmp_path_factory.mktemp("emulator")
    world = build_world(tenants=1, users=50, seed=5, scenario="enterprise", cert_dir=cert_dir)
    model = next(iter(world.tenants.values()))
    settings = make_settings(tmp_path_factory.mktemp("webapp"))
    engine = make_engine(settings.database_url)
    create_account(engine, "alice", Role.ADMIN, PASSWORD)
    app = create_app(settings, engine=engine)
    with start_in_thread(world, EmulatorOptions(), cert_dir=cert_dir) as emulator:
        pk = add_tenant(engine, model.domain, model.tenant_id)
        first = run_sync(engine, pk, connect(emulator, model), client_factory=_client)
        assert first.ok, first.error_message
        with session_scope(engine) as session:  # a month of history: the first run back-dated
            session.execute(
                update(SkuSnapshot)
                .where(SkuSnapshot.run_id == first.run_id)
                .values(captured_at=utcnow() - timedelta(days=30))
            )
        e3 = next(p.sku_id for p in model.products.values() if p.part_number == "SPE_E3")
        for user in [u for _, u in model.iter_users_from(0) if not u.assigned_sku_ids()][:2]:
            mutations.assign(model, user.id, e3, force=True)
        second = run_sync(engine, pk, connect(emulator, model), client_factory=_client)
        assert second.ok, second.error_message
        for part, (amount, term) in PRICES.items():
            set_price(engine, part, amount, "EUR", term)
        with serve_in_thread(app) as base_url:
            yield Site(base_url, engine, model.domain, refresh_date(model).isoformat())
    engine.dispose()


def money(amounts: dict[str, Decimal]) -> str:
    return " + ".join(f"{a:,.2f} {c}" for c, a in sorted(amounts.items())) or "no price"


def yearly(items: list[Recommendation] | list[RenewalPlan]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for item in items:
        if item.yearly_saving is not None and item.currency:
            sums[item.currency] = sums.get(item.currency, Decimal(0)) + item.yearly_saving
    return sums


def download(page: Page, name: str) -> list[list[str]]:
    with page.expect_download() as info:
        page.get_by_role("link", name=name, exact=True).click()
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    context = browser.new_context(accept_downloads=True)
    opened = context.new_page()
    sign_in(opened, site.base_url, "alice", PASSWORD)
    yield opened
    context.close()


def test_savings_page_sums_filters_and_exports(page: Page, site: Site) -> None:
    recs = tenant_recommendations(site.engine, site.tenant)
    assert {r.action for r in recs} >= {"remove"}, "the enterprise scenario has disabled holders"
    expect(page.locator("#saving-at-stake")).to_have_text(money(yearly(recs)))  # dashboard card
    expect(page.locator("#saving-as-of")).to_have_text(site.as_of)
    page.locator("#saving-card").click()
    expect(page.get_by_role("heading", name="Savings", exact=True)).to_be_visible()
    expect(page.locator("#saving-total")).to_have_text(money(yearly(recs)))
    expect(page.locator("#saving-count")).to_have_text(str(len(recs)))
    expect(page.locator("#savings-users tbody tr")).to_have_count(len(recs))
    actions = sorted({r.action for r in recs})
    expect(page.locator("#savings-by-action tbody tr")).to_have_count(len(actions))
    # The syncs collected the usage reports: the page says which day they describe.
    as_of = f"{site.tenant}: usage as of {site.as_of} (D90)"
    expect(page.locator("#usage-as-of")).to_have_text(as_of)
    expect(page.locator(".usage-missing")).to_have_count(0)

    removals = [r for r in recs if r.action == "remove"]
    page.locator("select[name=action]").select_option("remove")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(f"{site.base_url}/savings?tenant=&action=remove&product=&confidence=")
    expect(page.locator("#savings-users tbody tr")).to_have_count(len(removals))
    expect(page.locator('#savings-users tbody tr[data-action="remove"]')).to_have_count(
        len(removals)
    )
    expect(page.locator("#saving-total")).to_have_text(money(yearly(removals)))
    rows = download(page, "CSV")
    assert rows[0][:4] == ["tenant", "user_principal_name", "display_name", "action"]
    assert sorted(r[1] for r in rows[1:]) == sorted(r.user_principal_name for r in removals)

    product = recs[0].product_name
    page.locator("select[name=action]").select_option("")
    page.locator("select[name=product]").select_option(product)
    page.get_by_role("button", name="Filter").click()
    chosen = [r for r in recs if r.product_name == product]
    expect(page.locator("#savings-users tbody tr")).to_have_count(len(chosen))
    expect(page.locator("#savings-by-product tbody tr")).to_have_count(1)


def test_renewals_page_shows_the_calendar_and_the_plan(page: Page, site: Site) -> None:
    plans = renewal_plans(site.engine, site.tenant)
    assert plans, "the enterprise scenario has renewing subscriptions"
    page.get_by_role("link", name="Renewals").click()
    expect(page.get_by_role("heading", name="Renewal calendar")).to_be_visible()
    now = utcnow()

    def ahead(plan: RenewalPlan) -> int:  # months from this one
        return (plan.renews_at.year - now.year) * 12 + plan.renews_at.month - now.month

    later = any(ahead(p) >= 12 for p in plans)
    months = {f"{p.renews_at:%Y-%m}" for p in plans if ahead(p) < 12}
    # Twelve months from this one, empty ones too, then "later" when something renews after.
    expect(page.locator("#renewal-calendar tbody tr")).to_have_count(12 + later)
    for month in months:
        counted = sum(f"{p.renews_at:%Y-%m}" == month for p in plans)
        row = page.locator(f'#renewal-calendar tr[data-month="{month}"] td').nth(1)
        expect(row).to_have_text(str(counted))
    expect(page.locator("#renewal-count")).to_have_text(str(len(plans)))
    expect(page.locator("#renewal-saving")).to_have_text(money(yearly(plans)))
    expect(page.locator("#renewal-plan tbody tr")).to_have_count(len(plans))
    for plan in plans:
        cells = page.locator(f'#renewal-plan tr[data-subscription="{plan.subscription_id}"] td')
        expect(cells.nth(8)).to_have_text(f"{plan.recommended:,}")
    plan_csv: list[list[Any]] = download(page, "Plan CSV")
    assert plan_csv[0] == PLAN_COLUMNS
    column = PLAN_COLUMNS.index("recommended")
    by_id = {row[PLAN_COLUMNS.index("subscription_id")]: row[column] for row in plan_csv[1:]}
    assert by_id == {p.subscription_id: str(p.recommended) for p in plans}
