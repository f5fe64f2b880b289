"""Licence balance: the arithmetic (property tests) and the balance_rows read model."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from database_fixtures import add_tenant
from licensewatch.domain.balance import BALANCE_COLUMNS, BalanceRow, build_row, utilisation_ratio
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Sku, Subscription
from licensewatch.storage.queries import balance_rows

units = st.integers(min_value=0, max_value=10_000_000)
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _row(enabled: int, warning: int, suspended: int, locked_out: int, consumed: int) -> BalanceRow:
    return build_row(
        tenant="t",
        sku_id="s",
        sku_part_number="SPE_E5",
        applies_to="User",
        capability_status="Enabled" if enabled else None,
        enabled=enabled,
        warning=warning,
        suspended=suspended,
        locked_out=locked_out,
        consumed=consumed,
        now=NOW,
    )


@given(units, units, units, units, units)
def test_balance_arithmetic(e: int, w: int, s: int, lo: int, c: int) -> None:
    row = _row(e, w, s, lo, c)
    assert row.available == e + w - c == row.purchased + row.trial - row.consumed
    assert (row.purchased, row.grace, row.trial) == (e + w, w, 0)
    assert row.lapsed_holders + row.over_assigned_units == max(c - e - w, 0)
    assert row.lapsed_holders <= s + lo
    if e + w == 0:
        assert row.utilisation is None
    else:
        assert row.utilisation == c / (e + w) == utilisation_ratio(e + w, c)
    data = row.to_dict()
    assert list(data) == list(BALANCE_COLUMNS)
    assert data["available"] + data["consumed"] == data["purchased"] + data["trial"]


def test_display_name_hook_prefers_the_catalogue() -> None:
    row = _row(1, 0, 0, 0, 0)
    assert row.name == "SPE_E5"
    named = replace(row, catalog_name="Microsoft 365 E5")
    assert named.name == "Microsoft 365 E5"


def test_balance_rows_reads_units_renewal_and_trial(engine: Engine) -> None:
    tenant = add_tenant(engine, "fabrikam")
    other = add_tenant(engine, "contoso")
    soon = datetime(2030, 1, 31, 12, tzinfo=UTC)
    with session_scope(engine) as session:
        session.add_all(
            [
                Sku(
                    tenant_id=tenant,
                    sku_id="a",
                    sku_part_number="ENTERPRISEPACK",
                    enabled=10,
                    warning=2,
                    suspended=1,
                    locked_out=3,
                    consumed=13,
                    subscription_ids=["x"],
                    direct_assigned=9,
                    group_assigned=5,
                    assignment_errors=1,
                ),
                Sku(
                    tenant_id=tenant,
                    sku_id="b",
                    sku_part_number="FLOW_FREE",
                    enabled=0,
                    consumed=0,
                    subscription_ids=[],
                ),
                Sku(
                    tenant_id=other,
                    sku_id="a",
                    sku_part_number="ENTERPRISEPACK",
                    enabled=1,
                    consumed=0,
                    subscription_ids=[],
                ),
                Subscription(
                    tenant_id=tenant,
                    id="s1",
                    sku_id="a",
                    status="Enabled",
                    total_licenses=10,
                    is_trial=False,
                    next_lifecycle_at=soon.replace(year=2031),
                ),
                Subscription(
                    tenant_id=tenant,
                    id="s2",
                    sku_id="a",
                    status="Warning",
                    total_licenses=2,
                    is_trial=True,
                    next_lifecycle_at=soon,
                ),
                Subscription(
                    tenant_id=tenant,
                    id="s3",
                    sku_id="a",
                    status="Deleted",
                    total_licenses=5,
                    is_trial=False,
                    next_lifecycle_at=soon.replace(year=2029),
                ),
            ]
        )
    with session_scope(engine, write=False) as session:
        rows = balance_rows(session, "fabrikam")
        everyone = balance_rows(session)
    assert [r.sku_part_number for r in rows] == ["ENTERPRISEPACK", "FLOW_FREE"]
    e3 = rows[0].to_dict()
    assert list(e3) == list(BALANCE_COLUMNS)
    assert e3 == {
        "tenant": "fabrikam",
        "name": "ENTERPRISEPACK",
        "sku_id": "a",
        "sku_part_number": "ENTERPRISEPACK",
        "section": "paid",
        "capability_status": None,
        "enabled": 10,
        "warning": 2,
        "suspended": 1,
        "locked_out": 3,
        "consumed": 13,
        "purchased": 10,  # the 2 Warning units are a trial's: never purchased
        "grace": 0,
        "trial": 2,
        "available": -1,
        "unassigned": 0,
        "utilisation": 13 / 12,
        "lapsed_holders": 1,  # the holder beyond the usable units holds a lapsed unit
        "over_assigned_units": 0,
        "assigned_directly": 9,
        "assigned_via_groups": 5,
        "assignment_errors": 1,
        "next_renewal": soon.replace(year=2031).isoformat(),  # never the Deleted one's (2029)
        "renewal_in_grace": False,
        "trial_ends": soon.isoformat(),
        "lapsed_until": None,
        "over_assigned": False,
        "lapsed": True,
        "low": False,
        "expiring": True,
    }
    assert rows[1].section == "free"
    assert rows[1].utilisation is None
    assert rows[1].next_renewal is None
    assert rows[1].has_trial is False
    assert [(r.tenant, r.sku_id) for r in everyone] == [
        ("contoso", "a"),
        ("fabrikam", "a"),
        ("fabrikam", "b"),
    ]
