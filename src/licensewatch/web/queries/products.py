"""One product in one tenant: service plans, subscriptions, history (holders: holders.py)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from licensewatch.domain.units import lifecycle_event
from licensewatch.intelligence.catalog import product_names
from licensewatch.storage.models.inventory import (
    Sku,
    SkuServicePlan,
    Subscription,
)
from licensewatch.storage.models.runs import SkuSnapshot
from licensewatch.web.queries.balance import RECENT_RUNS, BalanceRow, balance_rows
from licensewatch.web.queries.common import TenantRef, ids


class ServicePlan(BaseModel):
    """A service plan included in the product."""

    service_plan_id: str
    service_plan_name: str | None
    provisioning_status: str | None
    applies_to: str | None


class SubscriptionRow(BaseModel):
    """A commerce subscription feeding units to a product."""

    tenant: str
    id: str
    sku_id: str
    sku_part_number: str | None
    status: str | None
    total_licenses: int
    trial: bool
    created_at: datetime | None
    next_lifecycle_at: datetime | None
    # What that date means (domain/units.py): renews, trial ends, grace ends, deleted, or None.
    next_event: str | None = None
    product: str | None = None  # the friendly name (catalogue, override or built-in)


class HistoryPoint(BaseModel):
    """A product's units as one completed sync saw them."""

    captured_at: datetime
    enabled: int
    warning: int
    suspended: int
    consumed: int


class ProductChoice(BaseModel):
    """A product as a filter offers it: its skuId and friendly name."""

    sku_id: str
    name: str


def product_choices(session: Session, tenants: list[TenantRef]) -> list[ProductChoice]:
    """The tenants' products by name, once per skuId (the users page's filter).

    Only ids and names: the full balance (units, renewals, flags) would cost ten times more.
    """
    if not tenants:
        return []
    query = select(Sku.sku_id, Sku.sku_part_number).where(
        Sku.tenant_id.in_([t.id for t in tenants])
    )
    names = product_names(session)
    chosen = {
        r.sku_id: ProductChoice(
            sku_id=r.sku_id, name=names.display_name(r.sku_id, r.sku_part_number)
        )
        for r in session.connection().execute(query)
    }
    return sorted(chosen.values(), key=lambda c: c.name.lower())


def product_balance(session: Session, tenant: str, sku_id: str) -> BalanceRow | None:
    """The product's balance row, or None when the tenant has no such SKU."""
    return next((r for r in balance_rows(session, tenant) if r.sku_id == sku_id), None)


def service_plans(session: Session, tenant: TenantRef, sku_id: str) -> list[ServicePlan]:
    """The plans included in the product, by name."""
    query = (
        select(SkuServicePlan)
        .where(SkuServicePlan.tenant_id == tenant.id, SkuServicePlan.sku_id == sku_id)
        .order_by(SkuServicePlan.service_plan_name)
    )
    return [
        ServicePlan(
            service_plan_id=p.service_plan_id,
            service_plan_name=p.service_plan_name,
            provisioning_status=p.provisioning_status,
            applies_to=p.applies_to,
        )
        for p in session.execute(query).scalars()
    ]


_SUBSCRIPTIONS = (
    select(*Subscription.__table__.c)
    .where(Subscription.tenant_id.in_(bindparam("ids", expanding=True)))
    .order_by(
        Subscription.next_lifecycle_at.is_(None), Subscription.next_lifecycle_at, Subscription.id
    )
)
_PRODUCT_SUBSCRIPTIONS = _SUBSCRIPTIONS.where(Subscription.sku_id == bindparam("sku_id"))


def subscription_rows(
    session: Session, tenants: list[TenantRef], sku_id: str | None = None
) -> list[SubscriptionRow]:
    """Subscriptions ordered by next lifecycle date (undated last), optionally of one product."""
    names = {t.id: t.name for t in tenants}
    if not names:
        return []
    connection = session.connection()  # prebuilt Core statements: see queries.common
    if sku_id is None:
        rows = connection.execute(_SUBSCRIPTIONS, ids(names))
    else:
        rows = connection.execute(_PRODUCT_SUBSCRIPTIONS, {**ids(names), "sku_id": sku_id})
    product = product_names(session).display_name
    return [
        SubscriptionRow(
            tenant=names[s.tenant_id],
            id=s.id,
            sku_id=s.sku_id,
            sku_part_number=s.sku_part_number,
            status=s.status,
            total_licenses=s.total_licenses,
            trial=s.is_trial,
            created_at=s.created_at,
            next_lifecycle_at=s.next_lifecycle_at,
            next_event=lifecycle_event(s.status, s.is_trial),
            product=product(s.sku_id, s.sku_part_number or s.sku_id),
        )
        for s in rows
    ]


HISTORY_POINTS = 365
# The product's snapshots of the given runs, plain rows: each a primary-key probe. The runs are
# bound as a list, not a subquery: PostgreSQL would hash-join that against every snapshot of
# the product (a scan growing with the history: 25 ms at 2,000 runs), not probe 365 keys.
_HISTORY = (
    select(
        SkuSnapshot.captured_at,
        SkuSnapshot.enabled,
        SkuSnapshot.warning,
        SkuSnapshot.suspended,
        SkuSnapshot.consumed,
    )
    .where(
        SkuSnapshot.run_id.in_(bindparam("runs", expanding=True)),
        SkuSnapshot.sku_id == bindparam("sku"),
    )
    .order_by(SkuSnapshot.captured_at)
)


def history(
    session: Session, tenant: TenantRef, sku_id: str, points: int = HISTORY_POINTS
) -> list[HistoryPoint]:
    """The product's snapshots of the tenant's newest `points` completed syncs, oldest first.

    Bounded: a daemon syncing every 15 minutes stores 35,000 points a year per product.
    """
    connection = session.connection()
    runs = list(connection.scalars(RECENT_RUNS, {"tenant": tenant.id, "points": points}))
    if not runs:
        return []
    found = connection.execute(_HISTORY, {"runs": runs, "sku": sku_id})
    return [
        HistoryPoint(
            captured_at=s.captured_at,
            enabled=s.enabled,
            warning=s.warning,
            suspended=s.suspended,
            consumed=s.consumed,
        )
        for s in found
    ]


def sku_exists(session: Session, tenant: TenantRef, sku_id: str) -> bool:
    """Whether the tenant has the SKU."""
    query = select(Sku.sku_id).where(Sku.tenant_id == tenant.id, Sku.sku_id == sku_id)
    return session.execute(query).first() is not None
