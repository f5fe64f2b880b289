"""One product in one tenant: holders (paged in SQL), service plans, subscriptions, history."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from licensewatch.domain.units import lifecycle_event
from licensewatch.intelligence.catalog import product_names
from licensewatch.storage.models.inventory import (
    Group,
    Sku,
    SkuServicePlan,
    Subscription,
    User,
    UserLicense,
)
from licensewatch.storage.models.runs import SkuSnapshot
from licensewatch.web.queries.balance import BalanceRow, balance_rows
from licensewatch.web.queries.common import Page, TenantRef, clamp, ids, like_pattern, make_page


class Holder(BaseModel):
    """A user holding the product, directly or through a group."""

    user_id: str
    user_principal_name: str | None
    display_name: str | None
    account_enabled: bool | None
    assignment: str  # "direct" or "group"
    group_id: str | None
    group_name: str | None
    state: str | None
    error: str | None


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


def holders(
    session: Session,
    tenant: TenantRef,
    sku_id: str,
    *,
    search: str = "",
    limit: int = 50,
    offset: int = 0,
) -> Page[Holder]:
    """Who holds the product, by user principal name, paged with the (dataset, sku) index."""
    limit, offset = clamp(limit, offset)
    if tenant.dataset_id is None:
        return make_page([], limit, offset)
    query = (
        select(
            User.id,
            User.user_principal_name,
            User.display_name,
            User.account_enabled,
            UserLicense.assigned_by_group,
            Group.display_name.label("group_name"),
            UserLicense.state,
            UserLicense.error,
        )
        .join(User, and_(User.dataset_id == UserLicense.dataset_id, User.id == UserLicense.user_id))
        .outerjoin(
            Group, and_(Group.tenant_id == tenant.id, Group.id == UserLicense.assigned_by_group)
        )
        .where(UserLicense.dataset_id == tenant.dataset_id, UserLicense.sku_id == sku_id)
        .order_by(User.user_principal_name, UserLicense.assigned_by_group)
        .limit(limit + 1)
        .offset(offset)
    )
    if search.strip():
        pattern = like_pattern(search)
        query = query.where(
            or_(
                func.lower(User.user_principal_name).like(pattern, escape="\\"),
                func.lower(User.display_name).like(pattern, escape="\\"),
            )
        )
    rows = [
        Holder(
            user_id=r.id,
            user_principal_name=r.user_principal_name,
            display_name=r.display_name,
            account_enabled=r.account_enabled,
            assignment="group" if r.assigned_by_group else "direct",
            group_id=r.assigned_by_group,
            group_name=r.group_name,
            state=r.state,
            error=r.error,
        )
        for r in session.execute(query)
    ]
    return make_page(rows, limit, offset)


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
        )
        for s in rows
    ]


def history(session: Session, tenant: TenantRef, sku_id: str) -> list[HistoryPoint]:
    """Every snapshot of the product, oldest first (one row per completed sync)."""
    query = (
        select(SkuSnapshot)
        .where(SkuSnapshot.tenant_id == tenant.id, SkuSnapshot.sku_id == sku_id)
        .order_by(SkuSnapshot.captured_at)
    )
    return [
        HistoryPoint(
            captured_at=s.captured_at,
            enabled=s.enabled,
            warning=s.warning,
            suspended=s.suspended,
            consumed=s.consumed,
        )
        for s in session.execute(query).scalars()
    ]


def sku_exists(session: Session, tenant: TenantRef, sku_id: str) -> bool:
    """Whether the tenant has the SKU."""
    query = select(Sku.sku_id).where(Sku.tenant_id == tenant.id, Sku.sku_id == sku_id)
    return session.execute(query).first() is not None
