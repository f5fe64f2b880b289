"""What a SKU's units mean: lapsed, trial, grace, sections, renewals, totals (pure domain rules)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from licensewatch.domain.balance import BalanceRow, build_row, combined_rows, totals
from licensewatch.domain.sections import Section, section
from licensewatch.domain.units import SubscriptionTotal, lifecycle_event, measure, renewal

NOW = datetime(2030, 6, 1, tzinfo=UTC)
units = st.integers(min_value=0, max_value=100_000)


def _row(part: str = "SPE_E3", tenant: str = "t", **kw: object) -> BalanceRow:
    base: dict[str, object] = {
        "applies_to": "User", "capability_status": "Enabled", "enabled": 0, "warning": 0,
        "suspended": 0, "locked_out": 0, "consumed": 0,
    }  # fmt: skip
    base.update(kw)
    return build_row(tenant=tenant, sku_id=part.lower(), sku_part_number=part, now=NOW, **base)  # type: ignore[arg-type]


def test_microsofts_suspended_example_reads_as_lapsed_not_over_assigned() -> None:
    # Microsoft's example (https://learn.microsoft.com/graph/api/subscribedsku-list#response;
    # tests/sync/test_microsoft_examples.py runs the body itself): capabilityStatus Suspended,
    # prepaidUnits {enabled 0, suspended 25}, consumedUnits 14.
    row = _row(capability_status="Suspended", suspended=25, consumed=14)
    assert (row.lapsed, row.lapsed_holders, row.over_assigned, row.unassigned) == (
        True,
        14,
        False,
        0,
    )
    assert (row.purchased, row.available) == (0, -14)
    assert row.expiring


def test_locked_out_and_deleted_skus_with_holders_are_lapsed() -> None:
    assert _row(capability_status="LockedOut", locked_out=8, consumed=6).lapsed_holders == 6
    deleted = _row(capability_status="Deleted", consumed=3)  # prepaidUnits all 0
    assert (deleted.lapsed_holders, deleted.over_assigned_units) == (3, 0)
    assert not _row(capability_status="Deleted").lapsed


def test_holders_beyond_usable_units_are_lapsed_first_then_over_assigned() -> None:
    row = _row(enabled=10, suspended=3, consumed=15)
    assert (row.lapsed_holders, row.over_assigned_units, row.available) == (3, 2, -5)


def test_trial_units_are_usable_but_never_purchased_or_wasted() -> None:
    subs = [
        SubscriptionTotal("Enabled", False, 3, NOW + timedelta(days=200)),
        SubscriptionTotal("Enabled", True, 25, NOW + timedelta(days=12)),
    ]
    row = _row(enabled=28, consumed=5, subscriptions=subs)
    assert (row.purchased, row.trial, row.available, row.unassigned) == (3, 25, 23, 0)
    assert row.next_renewal == NOW + timedelta(days=200)
    assert row.trial_ends == NOW + timedelta(days=12)
    assert row.expiring  # the trial ends within 30 days
    only_trial = _row(enabled=25, subscriptions=[SubscriptionTotal("Enabled", True, 25, None)])
    assert (only_trial.purchased, only_trial.trial, only_trial.unassigned) == (0, 25, 0)


@given(units, units, units, units, units, units)
def test_numbers_always_add_up(e: int, w: int, te: int, s: int, lo: int, c: int) -> None:
    subs = [SubscriptionTotal("Enabled", True, te, None)]
    got = measure(
        enabled=e, warning=w, suspended=s, locked_out=lo, consumed=c, capability_status=None,
        subscriptions=subs,
    )  # fmt: skip
    assert got.purchased + got.trial == e + w
    assert got.available == got.purchased + got.trial - c
    assert 0 <= got.unassigned <= got.purchased
    assert got.lapsed_holders + got.over_assigned == max(c - e - w, 0)
    assert got.grace == w


def test_next_renewal_only_from_enabled_and_warning_paid_subscriptions() -> None:
    day = timedelta(days=1)
    subs = [
        SubscriptionTotal("Suspended", False, 5, NOW + 2 * day),
        SubscriptionTotal("LockedOut", False, 5, NOW + 1 * day),
        SubscriptionTotal("Deleted", False, 5, NOW - 9 * day),
        SubscriptionTotal("Enabled", False, 5, NOW + 90 * day),
        SubscriptionTotal("Warning", False, 2, NOW + 9 * day),
    ]
    when = renewal(subs)
    assert (when.next_renewal, when.in_grace) == (NOW + 9 * day, True)
    assert when.lapsed_until == NOW + 1 * day
    assert renewal(subs[:3]).next_renewal is None


def test_lifecycle_events_name_what_the_date_means() -> None:
    assert lifecycle_event("Enabled", False) == "renews"
    assert lifecycle_event("Enabled", True) == "trial ends"
    assert lifecycle_event("Warning", False) == "grace ends"
    assert lifecycle_event("Suspended", False) == lifecycle_event("LockedOut", False) == "deleted"
    assert lifecycle_event("Deleted", False) is None


def test_sections_keep_free_and_company_skus_apart() -> None:
    assert section("FLOW_FREE", "User") == Section.FREE
    assert section("POWER_BI_STANDARD", "User") == Section.FREE
    assert section("Dynamics_365_Sales_Premium_Viral_Trial", "User") == Section.FREE
    assert section("Power_Pages_vTrial_for_Makers", "User") == Section.FREE
    assert section("SHAREPOINTSTORAGE", "Company") == Section.COMPANY
    assert section("SPE_E3", "User") == Section.PAID
    assert section("Microsoft_Teams_Exploratory_Dept", None) == Section.PAID


def test_totals_are_paid_only_and_add_up_across_tenants() -> None:
    rows = [
        _row("SPE_E3", "a", enabled=10, warning=2, consumed=14),  # 2 over-assigned
        _row("SPE_E3", "b", enabled=20, consumed=5),
        _row("FLOW_FREE", "a", enabled=10_000, consumed=12_661),
        _row("SHAREPOINTSTORAGE", "a", applies_to="Company", enabled=1024),
    ]
    free = rows[2]
    assert (free.over_assigned, free.unassigned, free.low) == (False, 0, False)
    assert rows[3].unassigned == 0
    sums = totals(rows)
    assert (sums.products, sums.purchased, sums.grace, sums.consumed) == (2, 32, 2, 19)
    assert sums.available == sums.purchased + sums.trial - sums.consumed == 13
    assert (sums.over_assigned, sums.free_products, sums.company_products) == (1, 1, 1)
    combined = {r.sku_part_number: r for r in combined_rows(rows)}["SPE_E3"]
    # Seats never move between tenants: tenant a stays over-assigned beside b's spare seats.
    assert (combined.over_assigned_units, combined.unassigned, combined.available) == (2, 15, 13)
    assert replace(totals(combined_rows(rows)), products=2) == sums  # one row per product
