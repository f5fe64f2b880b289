"""The renewal planning rule: examples, then properties over any demand and subscriptions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensewatch.domain.renewal_plan import (
    Demand,
    Renewing,
    TrendSums,
    buffer_seats,
    growth_seats,
    plan_renewals,
    reclaim_counts,
    trend_from_sums,
    trend_per_month,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    return NOW + timedelta(days=n)


def test_one_subscription_drops_spare_and_reclaimable_seats() -> None:
    demand = Demand(assigned=80, reclaimable=10, incoming=0, growth_per_month=0.0)
    (plan,) = plan_renewals(demand, 100, [Renewing("a", 100, day(40))], NOW, 10)
    assert (plan.needed, plan.growth, plan.buffer, plan.recommended) == (70, 0, 7, 77)
    assert (plan.change, plan.seats_saved, plan.seats_added) == (-23, 23, 0)


def test_growth_until_the_renewal_and_incoming_downgrades_add_seats() -> None:
    demand = Demand(assigned=50, reclaimable=0, incoming=5, growth_per_month=3.0)
    (plan,) = plan_renewals(demand, 50, [Renewing("a", 50, day(60))], NOW, 0)
    assert (plan.needed, plan.growth, plan.recommended, plan.seats_added) == (55, 6, 61, 11)


def test_two_subscriptions_never_both_claim_the_same_spare_seats() -> None:
    demand = Demand(assigned=50, reclaimable=0, incoming=0, growth_per_month=0.0)
    subs = [Renewing("late", 80, day(200)), Renewing("soon", 20, day(10))]
    soon, late = plan_renewals(demand, 100, subs, NOW, 0)
    assert (soon.subscription_id, soon.others, soon.recommended) == ("soon", 80, 0)
    assert (late.subscription_id, late.others, late.recommended) == ("late", 0, 50)
    assert soon.seats_saved + late.seats_saved == 50  # 100 bought, 50 needed: 50, not 70


def test_units_without_a_renewal_date_stay() -> None:
    demand = Demand(assigned=30, reclaimable=0, incoming=0, growth_per_month=0.0)
    (plan,) = plan_renewals(demand, 45, [Renewing("a", 20, day(5))], NOW, 0)
    assert (plan.others, plan.recommended) == (25, 5)


def test_trend_is_the_least_squares_slope_per_30_days() -> None:
    points = [(day(-60), 40), (day(-30), 43), (day(0), 46)]
    assert trend_per_month(points) == pytest.approx(3.0)
    assert trend_per_month([(day(0), 5)]) == 0.0
    assert trend_per_month([(day(0), 5), (day(0.1), 50)]) == 0.0  # minutes apart: no trend


def sums_of(points: list[tuple[float, int]]) -> TrendSums:
    xs = [x for x, _ in points]
    return TrendSums(
        len(points),
        sum(xs),
        float(sum(y for _, y in points)),
        sum(x * x for x in xs),
        sum(x * y for x, y in points),
        max(xs) - min(xs) if xs else 0.0,
    )


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=90 * 1440).map(lambda minute: minute / 1440),
            st.integers(min_value=0, max_value=300_000),
        ),
        max_size=200,
    )
)
def test_the_slope_from_sums_is_the_slope_from_points(points: list[tuple[float, int]]) -> None:
    """What the database aggregates gives the same trend as the snapshots one by one."""
    from_points = trend_per_month([(day(x), y) for x, y in points])
    assert trend_from_sums(sums_of(points)) == pytest.approx(from_points, abs=2e-3, rel=1e-6)


def test_buffer_rounds_up_and_refuses_a_bad_percent() -> None:
    assert buffer_seats(1, 10) == 1
    assert buffer_seats(0, 10) == 0
    assert buffer_seats(200, 5) == 10
    with pytest.raises(ValueError, match="0 to 100"):
        buffer_seats(10, 101)


demands = st.builds(
    Demand,
    assigned=st.integers(0, 100_000),
    reclaimable=st.integers(0, 100_000),
    incoming=st.integers(0, 1_000),
    growth_per_month=st.floats(-500, 500, allow_nan=False),
)
renewings = st.lists(
    st.builds(
        Renewing,
        id=st.text("abcdef", min_size=1, max_size=4),
        units=st.integers(0, 100_000),
        renews_at=st.floats(-5, 800).map(day),
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda r: r.id,
)


@given(demands, renewings, st.integers(0, 50_000), st.integers(0, 100))
def test_plan_properties(demand: Demand, subs: list[Renewing], extra: int, percent: int) -> None:
    purchased = sum(s.units for s in subs) + extra
    plans = plan_renewals(demand, purchased, subs, NOW, percent)
    assert [p.subscription_id for p in plans] == [
        s.id for s in sorted(subs, key=lambda s: (s.renews_at, s.id))
    ]
    floor = max(demand.assigned - demand.reclaimable, 0) + demand.incoming
    for plan in plans:
        assert plan.recommended >= 0
        assert plan.needed == floor
        assert plan.buffer == buffer_seats(plan.needed + plan.growth, percent)
        # With the other subscriptions' units, the renewal covers the holders still needed,
        # the growth and the buffer: never fewer seats than assigned − reclaimable + buffer.
        assert plan.recommended + plan.others >= plan.needed + plan.growth + plan.buffer
        assert plan.recommended + plan.others >= demand.assigned - demand.reclaimable + plan.buffer
        # And never more than that: nothing beyond the need is recommended.
        assert plan.recommended <= plan.needed + plan.growth + plan.buffer
        assert plan.seats_saved - plan.seats_added == plan.current - plan.recommended
    # Seats saved over all renewals never exceed the spare seats at the end.
    last = plans[-1]
    saved = sum(p.seats_saved for p in plans) - sum(p.seats_added for p in plans)
    assert saved == purchased - (last.recommended + last.others)


@given(demands, renewings, st.integers(0, 99))
def test_a_bigger_buffer_never_recommends_fewer_seats(
    demand: Demand, subs: list[Renewing], percent: int
) -> None:
    purchased = sum(s.units for s in subs)
    lower = plan_renewals(demand, purchased, subs, NOW, percent)
    higher = plan_renewals(demand, purchased, subs, NOW, percent + 1)
    # Per subscription the order of renewals can shift seats between them; in total, never less.
    assert higher[-1].recommended + higher[-1].others >= lower[-1].recommended + lower[-1].others


@given(st.floats(-1000, 1000, allow_nan=False), st.floats(-10, 2000, allow_nan=False))
def test_growth_is_never_negative_and_capped_at_a_year(per_month: float, days: float) -> None:
    seats = growth_seats(per_month, days)
    assert seats >= 0
    assert seats == growth_seats(per_month, min(days, 365))
    if per_month <= 0 or days <= 0:
        assert seats == 0


@given(st.lists(st.tuples(st.floats(-400, 0), st.integers(0, 10_000)), max_size=30))
def test_a_flat_series_has_no_trend(points: list[tuple[float, int]]) -> None:
    flat = [(day(offset), 42) for offset, _ in points]
    assert trend_per_month(flat) == pytest.approx(0.0, abs=1e-6)


@dataclass(frozen=True)
class Rec:
    user_principal_name: str
    action: str
    sku_id: str
    target_sku_id: str | None = None


def test_reclaimable_counts_units_as_microsoft_consumes_them() -> None:
    """consumedUnits is "the number of licenses that have been assigned" per user
    (https://learn.microsoft.com/graph/api/resources/subscribedsku), and a product a user holds
    directly and through a group uses one license
    (https://learn.microsoft.com/entra/identity/users/licensing-group-advanced): removing the
    direct duplicate frees no unit, and one user with two recommendations frees one."""
    recs = [
        Rec("Ann@contoso.com", "remove", "E3"),
        Rec("ann@contoso.com", "remove_addon", "E3"),  # the same user, another case
        Rec("bob@contoso.com", "remove_duplicate", "E3"),  # direct + group: one unit
        Rec("cy@contoso.com", "downgrade", "E5", "E3"),
        Rec("di@contoso.com", "downgrade", "E5", "E3"),
    ]
    assert reclaim_counts(recs) == {"E3": (1, 2), "E5": (2, 0)}
