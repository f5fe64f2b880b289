"""`licensewatch demo`: two tenants, 90 days of real history, sign-ins, demo prices; shown."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import Engine, func, select

from browser_support import chromium, sign_in
from licensewatch.cli import demo_story
from licensewatch.cli.demo import DEMO_TENANTS, demo_world, prepare
from licensewatch.emulator.server import start_in_thread
from licensewatch.intelligence.price_note import price_note
from licensewatch.intelligence.prices import load_prices
from licensewatch.security.crypto import load_keyring
from licensewatch.services.accounts import create_account
from licensewatch.services.tenants import TenantService
from licensewatch.storage.database import make_engine, session_scope
from licensewatch.storage.models import (
    LicenceChange,
    SyncRun,
    SyncStatus,
    Tenant,
    User,
    utcnow,
)
from licensewatch.storage.models.accounts import Role
from licensewatch.web import create_app
from web_fixtures import make_settings
from web_server import serve_in_thread

PASSWORD = "demo-password-123456"


@dataclass
class Demo:
    engine: Engine
    home: Path
    base_url: str


def _changes(engine: Engine) -> int:
    with session_scope(engine, write=False) as session:
        return int(session.scalar(select(func.count()).select_from(LicenceChange)) or 0)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo prepared twice (the second run replays the story on a fresh emulator)."""
    home = tmp_path_factory.mktemp("demo")
    settings = make_settings(home)
    engine = make_engine(settings.database_url)
    service = TenantService(engine, load_keyring(settings))
    for run in range(2):
        world = demo_world(80, home / "emulator")
        with start_in_thread(world, cert_dir=home / "emulator") as emulator:
            before = _changes(engine)
            prepare(service, world, emulator.info)
            if run == 1:  # the replayed story matches the database: the re-run sees no change
                assert _changes(engine) == before
    create_account(engine, "admin", Role.ADMIN, PASSWORD)
    app = create_app(settings, engine=engine)
    with serve_in_thread(app) as base_url:
        yield Demo(engine, home, base_url)
    engine.dispose()


def test_two_tenants_with_ninety_days_of_real_history(demo: Demo) -> None:
    now = utcnow()
    with session_scope(demo.engine, write=False) as session:
        names = list(session.scalars(select(Tenant.name).order_by(Tenant.name)))
        assert names == sorted(DEMO_TENANTS)
        for name in DEMO_TENANTS:
            finished = list(
                session.scalars(
                    select(SyncRun.finished_at)
                    .join(Tenant, Tenant.id == SyncRun.tenant_id)
                    .where(Tenant.name == name, SyncRun.status == SyncStatus.COMPLETED)
                    .order_by(SyncRun.id)
                )
            )
            runs = [when for when in finished if when is not None]
            assert len(runs) == len(finished) >= demo_story.STEPS + 2
            assert runs == sorted(runs)  # back-dated in order
            assert now - runs[0] >= timedelta(days=demo_story.DAYS - 1)
            kinds = set(
                session.scalars(
                    select(LicenceChange.kind)
                    .join(Tenant, Tenant.id == LicenceChange.tenant_id)
                    .where(Tenant.name == name)
                )
            )
            assert {"user_created", "licence_added", "licence_removed"} <= kinds
            assert {"account_disabled", "user_deleted", "units_changed"} <= kinds
        notes = set(session.scalars(select(LicenceChange.note)))
        assert notes == {demo_story.HISTORY_NOTE}  # every back-dated change says so


def test_sign_in_data_and_demo_prices(demo: Demo) -> None:
    with session_scope(demo.engine, write=False) as session:
        for name, expected in zip(DEMO_TENANTS, (True, False), strict=True):
            signed = session.scalar(
                select(func.count())
                .select_from(User)
                .join(Tenant, Tenant.dataset_id == User.dataset_id)
                .where(Tenant.name == name, User.last_sign_in_at.is_not(None))
            )
            assert bool(signed) is expected, name
        prices = load_prices(session)
        assert len(prices) >= 5
        assert {p.currency for p in prices.values()} == {"EUR"}
        note = price_note(session)
        assert note is not None
        assert "demo prices" in note


def test_demo_pages_show_prices_history_and_inactive_users(demo: Demo) -> None:
    with chromium() as browser:
        _walk(browser, demo)


def _walk(browser: Browser, demo: Demo) -> None:
    page = browser.new_page()
    sign_in(page, demo.base_url, "admin", PASSWORD)
    # The dashboard: Microsoft 365 E3 over-assigned (units cut at renewal) in the demo tenant.
    page.goto(f"{demo.base_url}/?tenant=demo")
    expect(page.locator("tr.row-over", has_text="Microsoft 365 E3").first).to_be_visible()
    # Costs: money, labelled as demo prices.
    page.goto(f"{demo.base_url}/costs?tenant=demo")
    expect(page.locator(".price-note")).to_contain_text("demo prices")
    assert "EUR" in page.locator("section.card").first.inner_text()
    # History: ninety days of changes, each labelled as back-dated demo history.
    page.goto(f"{demo.base_url}/changes?tenant=demo")
    rows = page.locator("table.changes tbody tr")
    assert rows.count() >= 20
    expect(page.locator(".badge-demo").first).to_have_attribute("title", demo_story.HISTORY_NOTE)
    # A product's page: its history chart and changes.
    page.goto(f"{demo.base_url}/?tenant=demo")
    page.locator("table.balance tbody tr a").first.click()
    expect(page.get_by_role("heading", name="Licence changes")).to_be_visible()
    # Findings: inactive users found in the tenant with sign-in data, unavailable in the other.
    page.goto(f"{demo.base_url}/findings")
    inactive = page.locator("section.finding[data-rule=inactive_users]")
    texts = inactive.all_inner_texts()
    assert any(t.startswith("demo:") and "Unavailable" not in t for t in texts), texts
    assert any(t.startswith("demo-subsidiary:") and "Unavailable" in t for t in texts), texts
    expect(page.locator("#at-stake")).to_contain_text("EUR")
    page.close()
