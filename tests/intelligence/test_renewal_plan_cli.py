"""`licensewatch renewals plan` end to end: two real syncs over TLS, growth from the snapshots."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from intelligence_world import PRICES, monthly, start_and_sync, sync
from openpyxl import load_workbook
from sqlalchemy import Engine, update
from typer.testing import CliRunner, Result

from emulator_fixtures import EmulatorFactory
from licensewatch.cli import app
from licensewatch.domain.renewal_plan import Demand, Renewing, plan_renewals
from licensewatch.emulator import mutations
from licensewatch.emulator.state import Tenant
from licensewatch.emulator.truth import ground_truth
from licensewatch.emulator.usage_reports import refresh_date
from licensewatch.intelligence.recommendations import tenant_recommendations
from licensewatch.intelligence.renewals import PLAN_COLUMNS
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import SkuSnapshot, utcnow

GROWN = "SPE_E3"
NEW_HOLDERS = 3


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> CliRunner:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    monkeypatch.setenv("LICENSEWATCH_DATABASE_URL", database_url)
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> Result:
    result = cli.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == code, result.output
    return result


def reclaims(engine: Engine, tenant: str) -> dict[str, tuple[int, int]]:
    """SKU id → (holders a recommendation frees, holders a downgrade brings), distinct users.

    `remove_duplicate` frees nothing: a user holding a SKU directly and via a group uses one unit.
    """
    freed: dict[str, set[str]] = {}
    incoming: dict[str, set[str]] = {}
    for rec in tenant_recommendations(engine, tenant):
        if rec.action in ("remove", "downgrade", "remove_addon"):
            freed.setdefault(rec.sku_id, set()).add(rec.user_principal_name.lower())
        if rec.action == "downgrade" and rec.target_sku_id:
            incoming.setdefault(rec.target_sku_id, set()).add(rec.user_principal_name.lower())
    return {
        sku: (len(freed.get(sku, ())), len(incoming.get(sku, ())))
        for sku in freed.keys() | incoming.keys()
    }


def expected(
    tenant: Tenant, buffer: int, growth: dict[str, float], reclaim: dict[str, tuple[int, int]]
) -> dict[str, dict[str, Any]]:
    """Subscription id → the plan's numbers, from the emulator's model and the recommendations."""
    now, plans = utcnow(), {}
    for sku in ground_truth(tenant)["skus"]:
        if sku["section"] != "paid":
            continue
        subs = [
            s
            for s in tenant.subscriptions
            if s.sku_id == sku["sku_id"]
            and s.status in ("Enabled", "Warning")
            and not s.is_trial
            and s.next_lifecycle is not None
            and s.total_licenses > 0
        ]
        if not subs:
            continue
        part = sku["sku_part_number"]
        freed, incoming = reclaim.get(sku["sku_id"], (0, 0))
        demand = Demand(sku["consumed"], freed, incoming, growth.get(part, 0.0))
        dated = [Renewing(s.id, s.total_licenses, s.next_lifecycle) for s in subs]  # type: ignore[arg-type]
        for seat in plan_renewals(demand, sku["purchased"], dated, now, buffer):
            price = monthly(part)
            saving = None
            if price is not None:
                yearly = price[0] * (seat.current - seat.recommended) * 12
                saving = str(yearly.quantize(Decimal("0.01")))
            plans[seat.subscription_id] = {
                "sku_part_number": part,
                "purchased": sku["purchased"],
                "subscription_units": seat.current,
                "assigned": sku["consumed"],
                "reclaimable": min(freed, sku["consumed"]),
                "incoming": incoming,
                "recommended": seat.recommended,
                "yearly_saving": saving,
                "currency": price[1] if price else None,
            }
    return plans


def test_renewals_plan_end_to_end(
    cli: CliRunner, make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path, scenario="enterprise", users=50)
    tenant, model = synced.tenant.domain, synced.tenant
    for part, (amount, currency, term) in PRICES.items():
        run(cli, "prices", "set", part, amount, "--currency", currency, "--term", term)
    # History: the first sync's snapshots a month back, then NEW_HOLDERS more E3 holders.
    with session_scope(engine) as session:
        session.execute(
            update(SkuSnapshot)
            .where(SkuSnapshot.run_id == synced.result.run_id)
            .values(captured_at=utcnow() - timedelta(days=30))
        )
    grown = next(p.sku_id for p in model.products.values() if p.part_number == GROWN)
    newcomers = [u for _, u in model.iter_users_from(0) if not u.assigned_sku_ids()]
    for user in newcomers[:NEW_HOLDERS]:
        mutations.assign(model, user.id, grown, force=True)
    sync(engine, synced.emulator, model, synced.tenant_pk)

    plans = json.loads(run(cli, "renewals", "plan", "--tenant", tenant, "--format", "json").output)
    assert plans, "the enterprise scenario has renewing subscriptions"
    e3 = [p for p in plans if p["sku_part_number"] == GROWN]
    assert e3
    assert all(p["growth_per_month"] == pytest.approx(NEW_HOLDERS, abs=0.01) for p in e3)
    growth = {GROWN: e3[0]["growth_per_month"]}
    reclaim = reclaims(engine, tenant)
    assert reclaim, "the enterprise scenario has disabled holders and duplicates to reclaim"
    want = expected(model, 10, growth, reclaim)
    got = {p["subscription_id"]: {k: p[k] for k in next(iter(want.values()))} for p in plans}
    assert got == want
    assert all(p["buffer_percent"] == 10 and p["tenant"] == tenant for p in plans)
    # Reclaimable seats rest on the usage reports the syncs collected: their date is given.
    assert {p["usage_as_of"] for p in plans} == {refresh_date(model).isoformat()}
    assert [p["renews_at"] for p in plans] == sorted(p["renews_at"] for p in plans)
    assert {p["event"] for p in plans} <= {"renews", "grace ends"}

    # The setting and the option change the buffer; --buffer wins for one run.
    run(cli, "findings", "settings", "renewal_buffer_percent", "0")
    zero = json.loads(run(cli, "renewals", "plan", "--format", "json").output)
    assert {p["subscription_id"]: p["recommended"] for p in zero} == {
        k: v["recommended"] for k, v in expected(model, 0, growth, reclaim).items()
    }
    twenty = json.loads(run(cli, "renewals", "plan", "--format", "json", "--buffer", "20").output)
    assert all(p["buffer_percent"] == 20 for p in twenty)
    run(cli, "findings", "settings", "renewal_buffer_percent", "101", code=2)

    rows = list(csv.reader(io.StringIO(run(cli, "renewals", "plan", "--format", "csv").output)))
    assert rows[0] == PLAN_COLUMNS
    assert len(rows) == len(plans) + 1
    out = tmp_path / "plan.xlsx"
    run(cli, "renewals", "plan", "--format", "xlsx", "--output", str(out))
    workbook = load_workbook(out, read_only=True)
    sheet = workbook.active
    assert sheet is not None
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    workbook.close()  # read-only workbooks keep the file open until closed
    assert cells[0] == PLAN_COLUMNS
    assert len(cells) == len(plans) + 1
    column = PLAN_COLUMNS.index("recommended")
    assert sorted(int(str(r[column])) for r in cells[1:]) == sorted(p["recommended"] for p in zero)

    table = run(cli, "renewals", "plan", "--tenant", tenant).output
    assert "Renewal plan" in table
    assert "Microsoft 365 E3" in table
    assert "Saving a year if renewed as planned" in table

    assert "needs --output" in run(cli, "renewals", "plan", "--format", "xlsx", code=2).output
    run(cli, "renewals", "plan", "--buffer", "101", code=2)
    assert "no tenant named" in run(cli, "renewals", "plan", "--tenant", "nope", code=2).output
