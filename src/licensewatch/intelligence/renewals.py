"""The renewal plan: per renewing subscription, the seats to renew and the money it saves.

Reads the balance (domain/units.py: which subscriptions renew), the SKU snapshots (growth), the
seats recommendations free (`Reclaim`) and the price list, then applies the one planning rule of
domain/renewal_plan.py. docs/intelligence.md, "Renewal planner", explains every column.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from licensewatch.domain.renewal_plan import (
    Demand,
    Reclaim,
    Renewing,
    SeatPlan,
    plan_renewals,
    reclaim_counts,
)
from licensewatch.domain.units import USABLE_STATUSES, lifecycle_event
from licensewatch.intelligence.catalog import product_names
from licensewatch.intelligence.money import rounded
from licensewatch.intelligence.prices import load_prices, unit_price
from licensewatch.intelligence.read_models.fingerprint import as_of as day_of
from licensewatch.intelligence.read_models.recommendations_build import refresh_recommendations
from licensewatch.intelligence.read_models.recommendations_readers import stored_seat_counts
from licensewatch.intelligence.recommendations import recommendations_in_session
from licensewatch.intelligence.recommendations.status import usage_state
from licensewatch.intelligence.renewal_growth import growth_per_month
from licensewatch.intelligence.settings import read_settings
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Subscription, Tenant, utcnow
from licensewatch.storage.queries import balance_rows, tenants_named

ATTEMPTS = 3  # rebuilt and changed again before it could be read, twice: compute in the session

PLAN_COLUMNS = [
    "tenant", "product", "sku_part_number", "sku_id", "subscription_id", "status", "event",
    "renews_at", "days_left", "purchased", "subscription_units", "other_units", "assigned",
    "reclaimable", "incoming", "growth_per_month", "growth", "buffer_percent", "buffer",
    "recommended", "change", "currency", "unit_price_monthly", "renewal_yearly",
    "monthly_saving", "yearly_saving", "usage_as_of",
]  # fmt: skip


class RenewalPlan(BaseModel):
    """One renewing subscription with its plan; money is None without a price."""

    tenant: str
    product: str
    sku_part_number: str
    sku_id: str
    subscription_id: str
    status: str
    event: str  # renews | grace ends
    renews_at: datetime
    days_left: int
    purchased: int  # the SKU's paid units (all its subscriptions)
    subscription_units: int
    other_units: int
    assigned: int
    reclaimable: int
    incoming: int
    growth_per_month: float
    growth: int
    buffer_percent: int
    buffer: int
    recommended: int
    change: int
    currency: str | None
    unit_price_monthly: Decimal | None
    renewal_yearly: Decimal | None  # what the subscription costs a year as it stands
    monthly_saving: Decimal | None  # negative: the renewal needs more seats than today
    yearly_saving: Decimal | None
    # The usage report date the recommendations (reclaimable, incoming) rest on; None: no usage.
    usage_as_of: date | None = None

    def cells(self) -> list[Any]:
        """The row in PLAN_COLUMNS order (ISO dates; money as numbers)."""
        data = self.model_dump()
        data["renews_at"] = self.renews_at.isoformat(timespec="seconds")
        data["usage_as_of"] = self.usage_as_of.isoformat() if self.usage_as_of else None
        return [data[column] for column in PLAN_COLUMNS]


def _renewing(session: Session, tenant_pk: int) -> dict[str, list[tuple[Subscription, str]]]:
    """SKU id → its paid Enabled/Warning subscriptions with a date and units (domain/units.py)."""
    found: dict[str, list[tuple[Subscription, str]]] = defaultdict(list)
    statement = select(Subscription).where(
        Subscription.tenant_id == tenant_pk,
        Subscription.status.in_(USABLE_STATUSES),
        Subscription.is_trial.is_(False),
        Subscription.next_lifecycle_at.is_not(None),
        Subscription.total_licenses > 0,
    )
    for sub in session.scalars(statement):
        event = lifecycle_event(sub.status, sub.is_trial)
        if event is not None:
            found[sub.sku_id].append((sub, event))
    return found


def tenant_plans(
    session: Session,
    tenant: Tenant,
    reclaims: Iterable[Reclaim] | None = None,
    *,
    now: datetime | None = None,
    buffer_percent: int | None = None,
    seat_counts: dict[str, tuple[int, int]] | None = None,
) -> list[RenewalPlan]:
    """The plans of one tenant's renewing subscriptions, soonest first.

    `reclaims` default to the tenant's stored recommendations, read in the same session (computed
    there, as the build would, when they are stale: this session cannot store them);
    `seat_counts` are those already read in this session (`stored_seat_counts`).
    """
    renewing = _renewing(session, tenant.id)
    if not renewing:
        return []  # nothing renews: no need to read the recommendations
    now = now or utcnow()
    counts = seat_counts if reclaims is None else None
    if counts is None and reclaims is None:
        counts = stored_seat_counts(session, tenant, now)
    if counts is None:
        if reclaims is None:
            reclaims = recommendations_in_session(session, tenant, now=day_of(now))
        counts = reclaim_counts(reclaims)
    usage = usage_state(session, tenant)
    as_of = usage.as_of if usage.per_user else None  # concealed or missing: no usage used
    percent = int(read_settings(session)["renewal_buffer_percent"])
    percent = percent if buffer_percent is None else buffer_percent
    names, prices = product_names(session), load_prices(session)
    growth = growth_per_month(session, tenant, now)
    plans: list[RenewalPlan] = []
    for row in balance_rows(session, tenant.name, now=now):
        subs = renewing.get(row.sku_id)
        if not row.paid or not subs:
            continue
        reclaimable, incoming = counts.get(row.sku_id, (0, 0))
        demand = Demand(row.consumed, reclaimable, incoming, growth.get(row.sku_id, 0.0))
        dated = [Renewing(s.id, s.total_licenses, _dated(s.next_lifecycle_at)) for s, _ in subs]
        by_id = {s.id: (s, event) for s, event in subs}
        monthly, currency = unit_price(prices, row.sku_id, row.sku_part_number)
        for seat in plan_renewals(demand, row.purchased, dated, now, percent):
            sub, event = by_id[seat.subscription_id]
            plans.append(
                _record(
                    tenant.name,
                    names.display_name(row.sku_id, row.sku_part_number),
                    row.sku_part_number,
                    row.purchased,
                    demand,
                    seat,
                    sub,
                    event,
                    percent,
                    (monthly, currency),
                    now,
                ).model_copy(update={"usage_as_of": as_of})
            )
    plans.sort(key=lambda p: (p.renews_at, p.product.lower(), p.subscription_id))
    return plans


def _dated(value: datetime | None) -> datetime:
    assert value is not None  # noqa: S101 - selected with a date only
    return value


def _record(
    tenant: str,
    product: str,
    part: str,
    purchased: int,
    demand: Demand,
    seat: SeatPlan,
    sub: Subscription,
    event: str,
    percent: int,
    price: tuple[Decimal | None, str | None],
    now: datetime,
) -> RenewalPlan:
    monthly, currency = price
    priced = monthly is not None and currency is not None

    def money(units: int, months: int) -> Decimal | None:
        return rounded(monthly * units * months) if priced and monthly is not None else None

    saved = seat.current - seat.recommended
    return RenewalPlan(
        tenant=tenant,
        product=product,
        sku_part_number=part,
        sku_id=sub.sku_id,
        subscription_id=sub.id,
        status=sub.status or "",
        event=event,
        renews_at=seat.renews_at,
        days_left=max((seat.renews_at - now).days, 0),
        purchased=purchased,
        subscription_units=seat.current,
        other_units=seat.others,
        assigned=demand.assigned,
        reclaimable=min(demand.reclaimable, demand.assigned),
        incoming=demand.incoming,
        growth_per_month=demand.growth_per_month,
        growth=seat.growth,
        buffer_percent=percent,
        buffer=seat.buffer,
        recommended=seat.recommended,
        change=seat.change,
        currency=currency if priced else None,
        unit_price_monthly=rounded(monthly) if priced and monthly is not None else None,
        renewal_yearly=money(seat.current, 12),
        monthly_saving=money(saved, 1),
        yearly_saving=money(saved, 12),
    )


def renewal_plans(
    engine: Engine,
    tenant_name: str | None = None,
    *,
    now: datetime | None = None,
    buffer_percent: int | None = None,
) -> list[RenewalPlan]:
    """Plans of one tenant by name, or of every tenant (LookupError for an unknown name).

    Read in one snapshot in which the stored recommendations are fresh: stale ones are rebuilt
    (and stored) first, then read again; the last attempt computes them in the session.
    """
    for attempt in range(ATTEMPTS):
        with session_scope(engine, write=False) as session:
            tenants = tenants_named(session, tenant_name)
            when = now or utcnow()
            counts = {t.id: stored_seat_counts(session, t, when) for t in tenants}
            stale = [pk for pk, found in counts.items() if found is None]
            if not stale or attempt == ATTEMPTS - 1:
                plans: list[RenewalPlan] = []
                for tenant in tenants:
                    plans += tenant_plans(
                        session,
                        tenant,
                        now=now,
                        buffer_percent=buffer_percent,
                        seat_counts=counts[tenant.id],
                    )
                plans.sort(key=lambda p: (p.renews_at, p.tenant.lower(), p.product.lower()))
                return plans
        for pk in stale:
            refresh_recommendations(engine, pk, now)
    raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover
