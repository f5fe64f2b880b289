"""Hostile text through every exporter: web CSV/XLSX, report ZIP/XLSX/e-mail, CLI csv."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stdout
from datetime import UTC, datetime
from decimal import Decimal

from hostile_text import check_csv, check_xlsx, check_zip, hostile
from hypothesis import HealthCheck, given, settings

from licensewatch.cli.output import print_csv
from licensewatch.domain.balance import BalanceRow
from licensewatch.domain.cells import safe_cell
from licensewatch.domain.sections import Section
from licensewatch.intelligence.costs import ProductCost, TenantCosts
from licensewatch.intelligence.findings import Affected, Finding, FindingRule
from licensewatch.intelligence.money import Cost
from licensewatch.intelligence.report_content import Report
from licensewatch.intelligence.report_formats import attachments, to_csv_zip, to_xlsx
from licensewatch.web import exports
from licensewatch.web.queries.products import SubscriptionRow
from licensewatch.web.queries.users import UserLicence

NOW = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)


def _cost(text: str) -> Cost:
    cost = Cost()
    cost.add(Decimal("12.5"), "EUR", 3, text)
    cost.add(None, None, 1, text)
    return cost


def _balance(text: str) -> BalanceRow:
    return BalanceRow(
        tenant=text, sku_id=text, sku_part_number=text, section=Section.PAID,
        capability_status=text, enabled=5, warning=0, suspended=0, locked_out=0, consumed=7,
        purchased=5, grace=0, trial=0, available=-2, unassigned=0, lapsed_holders=0,
        over_assigned_units=2, assigned_directly=4, assigned_via_groups=3, assignment_errors=0,
        next_renewal=NOW, renewal_in_grace=False, trial_ends=None, lapsed_until=None,
        expiring=False, catalog_name=text,
    )  # fmt: skip


def _report(text: str) -> Report:
    report = Report(text, NOW, NOW)
    report.balance = [_balance(text)]
    product = ProductCost(text, text, 5, 7, -2, text, _cost(text), _cost(text), Cost())
    report.costs = [
        TenantCosts(
            text,
            [product],
            _cost(text),
            _cost(text),
            Cost(),
            {"department": [(text, 3, _cost(text))], text: [(text, -1, Cost())]},
        )
    ]
    affected = Affected(text, text, text, [text, text], 2, _cost(text))
    report.findings = [
        Finding(FindingRule.UNASSIGNED_SEATS, text, text, "users", text, [affected], 1, Cost()),
        Finding(FindingRule.UNASSIGNED_SEATS, text, text, "products", text, [affected], 1, None),
        Finding(FindingRule.UNASSIGNED_SEATS, text, text, "users", text, unavailable=text + "!"),
    ]
    keys = ("tenant", "occurred_at", "kind", "user_principal_name", "product", "via_group", "note")
    report.changes = [dict.fromkeys(keys, text)]
    return report


def _web_rows(text: str) -> dict[str, tuple[list[str], list[list[exports.Cell]]]]:
    balance = _balance(text)
    user = UserLicence(
        tenant=text, user_id=text, user_principal_name=text, display_name=text,
        account_enabled=True, user_type=text, department=text, country=text, sku_id=text,
        sku_part_number=text, assignment=text, group_id=text, group_name=text, state=text,
        error=text,
    )  # fmt: skip
    subscription = SubscriptionRow(
        tenant=text, id=text, sku_id=text, sku_part_number=text, status=text,
        total_licenses=-5, trial=True, created_at=NOW, next_lifecycle_at=None, next_event=text,
    )  # fmt: skip
    return {
        "balance": (exports.BALANCE_COLUMNS, [exports.balance_cells(balance)]),
        "users": (exports.USER_COLUMNS, [exports.user_cells(user)]),
        "subscriptions": (exports.SUBSCRIPTION_COLUMNS, [exports.subscription_cells(subscription)]),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile)
def test_no_exporter_writes_a_formula_or_a_control_character(text: str) -> None:
    for name, (columns, rows) in _web_rows(text).items():
        csv_text = "".join(exports.csv_chunks(columns, rows))
        assert len(check_csv(f"web {name}.csv", csv_text, len(columns))) == 2
        assert len(check_xlsx(f"web {name}.xlsx", exports.xlsx_bytes(name, columns, rows))) == 2

    report = _report(text)
    sheets = check_zip("report.zip", to_csv_zip(report))
    assert set(sheets) == {f"{n}.csv" for n in ("balance", "costs", "cost_breakdown")} | {
        "findings.csv",
        "changes.csv",
    }
    assert len(sheets["findings.csv"]) == 4  # header + 3 rows: no row broken by a line break
    check_xlsx("report.xlsx", to_xlsx(report))
    for filename, _mime, data in attachments(report):
        if filename.endswith(".xlsx"):
            check_xlsx(f"mail {filename}", data)
        else:
            check_csv(f"mail {filename}", data)

    out = io.StringIO()
    with redirect_stdout(out):
        print_csv([{"a": text, "b": -3, "c": None, "d": 1.5}, {"a": 7}], ["a", "b", "c", "d"])
    assert sys.stdout is not out
    printed = check_csv("cli csv", out.getvalue(), 4)
    assert printed[1][1:] == ["-3", "", "1.5"]


def test_numbers_stay_numbers_and_text_stays_text() -> None:
    report = _report("=1+1")
    values = check_xlsx("report.xlsx", to_xlsx(report))
    flat = [v for row in values for v in row]
    assert -2 in flat  # a negative number is a number, not neutralised text
    assert "'=1+1" in flat
    assert safe_cell(Decimal("1.50")) == Decimal("1.50")
    assert safe_cell(float("nan")) is None
    assert safe_cell("#N/A") == "#N/A"  # typed as text in XLSX: never an error cell
