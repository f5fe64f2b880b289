"""Prices, costs (totals and per department) and reports (files, schedules, real SMTP)."""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from alert_receivers import smtp_server
from intelligence_world import PRICES, cost, held, name, start_and_sync, users
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.truth import ground_truth
from licensewatch.intelligence.alerts.rules import add_destination
from licensewatch.intelligence.costs import all_costs
from licensewatch.intelligence.prices import import_prices, set_price
from licensewatch.intelligence.report_formats import render_html, to_csv_zip, to_xlsx
from licensewatch.intelligence.reports import (
    add_schedule,
    build_report,
    due_reports,
    send_due_reports,
)
from licensewatch.intelligence.settings import write_setting
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import utcnow
from licensewatch.storage.models.intelligence import ProductPrice


def _price_csv() -> bytes:
    lines = ["product,price,currency,term"]
    lines += [f"{part},{a},{c},{t}" for part, (a, c, t) in PRICES.items()]
    return ("\n".join(lines) + "\n").encode()


def test_costs_match_the_emulated_tenant(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path)
    tenant = synced.tenant
    assert len(import_prices(engine, _price_csv())) == len(PRICES)
    costs = all_costs(engine, tenant.domain)[0]
    # Paid products only; purchased never counts trial seats, unassigned never spare trial seats.
    truth = [s for s in ground_truth(tenant)["skus"] if s["section"] == "paid"]
    purchased = [(s["sku_id"], s["purchased"]) for s in truth]
    assigned = [(s["sku_id"], s["consumed"]) for s in truth]
    spare = [(s["sku_id"], s["unassigned"]) for s in truth]
    for total, items in ((costs.purchased, purchased), (costs.assigned, assigned)):
        assert (total.monthly(), total.unpriced) == cost(tenant, items)
    assert (costs.unassigned.monthly(), costs.unassigned.unpriced) == cost(tenant, spare)
    assert costs.purchased.yearly()["EUR"] == (costs.purchased.amounts["EUR"] * 12).quantize(
        Decimal("0.01")
    )
    unpriced = next(p for p in costs.products if p.price is None)
    assert unpriced.to_dict()["price"] == "no price"
    assert unpriced.purchased_cost.text() == "no price"

    by_department: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for user in users(tenant):
        for sku in held(user):
            by_department[user.department or "(not set)"].append((sku, 1))
    lines = {value: (units, c) for value, units, c in costs.breakdowns["department"]}
    assert set(lines) == set(by_department)
    for department, items in by_department.items():
        units, c = lines[department]
        assert units == len(items)
        assert (c.monthly(), c.unpriced) == cost(tenant, items)
    assert set(costs.breakdowns) == {"department", "country", "company_name", "cost_center"}
    write_setting(engine, "cost_attribute", "usage_location")
    assert "usage_location" in all_costs(engine, tenant.domain)[0].breakdowns


def test_price_validation_and_all_or_nothing_import(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    start_and_sync(make_emulator, engine, tmp_path)
    with pytest.raises(ValueError, match="three-letter"):
        set_price(engine, "SPE_E3", "36", "euro", "monthly")
    with pytest.raises(ValueError, match="monthly or annual"):
        set_price(engine, "SPE_E3", "36", "EUR", "weekly")
    with pytest.raises(ValueError, match="not a number"):
        set_price(engine, "SPE_E3", "36,00", "EUR", "monthly")
    broken = _price_csv() + b"NOT_A_PRODUCT,1.00,EUR,monthly\nSPE_E5,abc,EUR,annual\n"
    with pytest.raises(ValueError, match=r"no price was imported:\nline \d+: unknown product"):
        import_prices(engine, broken)
    with session_scope(engine, write=False) as session:
        assert session.scalar(select(func.count()).select_from(ProductPrice)) == 0
    price = set_price(engine, "spe_e5", "684", "eur", "annual")
    assert (price.part_number, price.monthly, price.currency) == ("SPE_E5", Decimal(57), "EUR")


def test_report_files_and_scheduled_email(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path)
    tenant = synced.tenant
    import_prices(engine, _price_csv())
    disabled = sorted(
        u.user_principal_name for u in users(tenant) if held(u) and not u.account_enabled
    )
    report = build_report(engine, tenant.domain)
    html = render_html(report)
    assert disabled[0] in html
    assert "Microsoft 365 E3" in html
    assert "<script" not in html

    workbook = load_workbook(io.BytesIO(to_xlsx(report)))
    assert workbook.sheetnames == ["balance", "costs", "cost_breakdown", "findings", "changes"]
    findings = workbook["findings"]
    rows = [[c.value for c in row] for row in findings.iter_rows(min_row=2)]
    disabled_rows = sorted(str(r[3]) for r in rows if r[1] == "disabled_holders")
    assert disabled_rows == disabled
    balance = workbook["balance"]
    names = {row[1].value for row in balance.iter_rows(min_row=2)}
    assert {name(tenant, sku) for sku in tenant.products} == names
    with zipfile.ZipFile(io.BytesIO(to_csv_zip(report))) as archive:
        assert sorted(archive.namelist()) == sorted(f"{s}.csv" for s in workbook.sheetnames)

    with smtp_server() as mailbox:
        options = {"host": "127.0.0.1", "port": mailbox.port, "security": "none"}
        options["sender"] = "licensewatch@example.org"
        add_destination(engine, "finance", "email", "finance@example.org", options=options)
        now = utcnow()
        add_schedule(engine, "weekly", "finance", tenant=tenant.domain, now=now - timedelta(days=8))
        assert [d.tenant for d in due_reports(engine, now)] == [tenant.domain]
        results = send_due_reports(engine, now)
        assert [error for _, error in results] == [None]
        assert due_reports(engine, now) == []
        assert send_due_reports(engine, now) == []
        assert len(mailbox.messages) == 1
        mail = mailbox.messages[0]
        assert "Licence report" in str(mail["Subject"])
        html_part = mail.get_body(("html",))
        assert html_part is not None
        assert disabled[0] in html_part.get_content()
        files = {Path(part.get_filename() or "").suffix for part in mail.iter_attachments()}
        assert files == {".csv", ".xlsx"}
        assert due_reports(engine, now + timedelta(days=8))
