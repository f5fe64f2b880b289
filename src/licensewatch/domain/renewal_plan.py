"""The renewal planning rule: how many seats each renewing subscription of a SKU should renew.

Pure values and arithmetic (docs/intelligence.md, "Renewal planner"): seats still needed at the
renewal date (assigned − reclaimable + incoming downgrades + growth until then), a safety buffer on
top, less what the SKU's other subscriptions keep providing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from math import ceil
from typing import Protocol

DAYS_PER_MONTH = 30
MAX_BUFFER_PERCENT = 100
# Growth is projected at most a year ahead: a trend measured over weeks says little beyond that.
MAX_PROJECTION_DAYS = 365
# A trend needs snapshots at least this far apart; two syncs minutes apart measure noise.
MIN_TREND_DAYS = 1.0


@dataclass(frozen=True, slots=True)
class Demand:
    """What a SKU's holders need, from the balance, the recommendations and the history."""

    assigned: int  # holders now (consumedUnits)
    reclaimable: int  # holders whose seat a recommendation frees (remove, downgrade away, ...)
    incoming: int  # holders of other SKUs a downgrade recommendation moves onto this one
    growth_per_month: float  # the trend of holders per 30 days (negative: shrinking)


@dataclass(frozen=True, slots=True)
class Renewing:
    """One paid subscription with a renewal date (Enabled renews, Warning leaves grace)."""

    id: str
    units: int
    renews_at: datetime


@dataclass(frozen=True, slots=True)
class SeatPlan:
    """The plan for one subscription: what to renew it at, and why."""

    subscription_id: str
    renews_at: datetime
    current: int  # the subscription's units now
    others: int  # units the SKU's other subscriptions provide at that date
    needed: int  # max(assigned − reclaimable + incoming, 0): seats needed today
    growth: int  # seats the (non-negative) trend adds by the renewal date
    buffer: int  # the safety buffer on needed + growth
    recommended: int  # units to renew this subscription at

    @property
    def change(self) -> int:
        """Recommended minus current: negative drops seats, positive buys more."""
        return self.recommended - self.current

    @property
    def seats_saved(self) -> int:
        return max(self.current - self.recommended, 0)

    @property
    def seats_added(self) -> int:
        return max(self.recommended - self.current, 0)


def buffer_seats(seats: int, percent: int) -> int:
    """`percent` % of `seats`, rounded up (a buffer of 10 % on 1 seat is 1 seat, not 0)."""
    if not 0 <= percent <= MAX_BUFFER_PERCENT:
        raise ValueError(f"the buffer must be 0 to {MAX_BUFFER_PERCENT} %, not {percent}")
    return -(-max(seats, 0) * percent // 100)


def growth_seats(per_month: float, days: float) -> int:
    """Seats a trend adds in `days` (capped at a year); a shrinking trend adds none.

    Seats can be bought at any time but only dropped at a renewal, so the plan never counts on
    growth turning negative: it plans for today's holders at least.
    """
    if per_month <= 0 or days <= 0:
        return 0
    months = min(days, MAX_PROJECTION_DAYS) / DAYS_PER_MONTH
    return ceil(round(per_month * months, 6))  # round first: 2.0000000001 is 2 seats


def trend_per_month(points: Iterable[tuple[datetime, int]]) -> float:
    """Holders per 30 days: the least-squares slope of (time, holders) snapshots.

    0 with fewer than two snapshots or when they span less than a day (no trend to speak of).
    """
    series = sorted(points)
    if len(series) < 2:
        return 0.0
    start = series[0][0]
    xs = [(when - start).total_seconds() / 86400 for when, _ in series]
    if xs[-1] - xs[0] < MIN_TREND_DAYS:
        return 0.0
    ys = [float(value) for _, value in series]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return round(slope * DAYS_PER_MONTH, 4)


@dataclass(frozen=True, slots=True)
class TrendSums:
    """What a least-squares slope needs, summed by the database: x in days, y in holders."""

    n: int
    sum_x: float
    sum_y: float
    sum_xx: float
    sum_xy: float
    span_days: float  # the last snapshot's x minus the first's


def trend_from_sums(sums: TrendSums) -> float:
    """`trend_per_month` from sums over the snapshots instead of the snapshots themselves."""
    if sums.n < 2 or sums.span_days < MIN_TREND_DAYS:
        return 0.0
    spread = sums.n * sums.sum_xx - sums.sum_x**2
    if spread <= 0:
        return 0.0
    slope = (sums.n * sums.sum_xy - sums.sum_x * sums.sum_y) / spread
    return round(slope * DAYS_PER_MONTH, 4)


def plan_renewals(
    demand: Demand,
    purchased: int,
    renewing: Sequence[Renewing],
    now: datetime,
    buffer_percent: int,
) -> list[SeatPlan]:
    """Plans for a SKU's renewing subscriptions, in renewal order.

    Each subscription is planned as if the earlier ones were renewed at their recommendation and
    the later ones kept their units, so two subscriptions of one SKU never both claim the same
    spare seats. Units that do not renew (a subscription without a date) stay as they are:
    `purchased` (the SKU's paid units) minus the renewing units.
    """
    ordered = sorted(renewing, key=lambda r: (r.renews_at, r.id))
    units = {r.id: max(r.units, 0) for r in ordered}
    fixed = max(purchased - sum(units.values()), 0)
    needed = max(demand.assigned - min(demand.reclaimable, demand.assigned), 0) + max(
        demand.incoming, 0
    )
    plans: list[SeatPlan] = []
    for sub in ordered:
        others = fixed + sum(units.values()) - units[sub.id]
        days = (sub.renews_at - now).total_seconds() / 86400
        growth = growth_seats(demand.growth_per_month, days)
        buffer = buffer_seats(needed + growth, buffer_percent)
        recommended = max(needed + growth + buffer - others, 0)
        plans.append(
            SeatPlan(
                sub.id, sub.renews_at, units[sub.id], others, needed, growth, buffer, recommended
            )
        )
        units[sub.id] = recommended  # renewed at the plan: later renewals count on it
    return plans


# Actions whose user gives back a unit of the recommendation's SKU. A duplicate assignment
# (direct and through a group) holds one unit only (consumedUnits counts users): removing the
# direct one frees none, so `remove_duplicate` never makes a seat reclaimable.
FREES_A_SEAT = frozenset({"remove", "downgrade", "remove_addon"})


class Reclaim(Protocol):
    """What the planner reads of a recommendation (intelligence.recommendations)."""

    @property
    def user_principal_name(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def sku_id(self) -> str: ...
    @property
    def target_sku_id(self) -> str | None: ...


def reclaim_counts(recommendations: Iterable[Reclaim]) -> dict[str, tuple[int, int]]:
    """SKU id → (holders whose seat is freed, holders a downgrade moves onto it), distinct users."""
    freed: dict[str, set[str]] = defaultdict(set)
    incoming: dict[str, set[str]] = defaultdict(set)
    for rec in recommendations:
        if rec.action not in FREES_A_SEAT:
            continue
        user = rec.user_principal_name.lower()
        freed[rec.sku_id].add(user)
        if rec.action == "downgrade" and rec.target_sku_id:
            incoming[rec.target_sku_id].add(user)
    return {
        sku: (len(freed.get(sku, ())), len(incoming.get(sku, ())))
        for sku in freed.keys() | incoming.keys()
    }
