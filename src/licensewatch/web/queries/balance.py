"""The licence balance per SKU (per tenant and across tenants), read from the per-run aggregates."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from licensewatch.domain.balance import BalanceRow as DomainRow
from licensewatch.domain.balance import available_units, utilisation_ratio
from licensewatch.intelligence.catalog import with_names
from licensewatch.storage.models.base import utcnow
from licensewatch.storage.models.inventory import Sku, Subscription
from licensewatch.storage.models.runs import SkuSnapshot
from licensewatch.storage.queries import balance_rows as storage_balance_rows
from licensewatch.web.queries.common import ids, tenant_refs

ALL_TENANTS = "All tenants"
EXPIRING_WITHIN = timedelta(days=30)
HISTORY = timedelta(days=90)
LOW_UNITS = 5
LOW_SHARE = 0.05
_TROUBLED = ("Warning", "Suspended", "LockedOut")


class BalanceRow(BaseModel):
    """One product's balance: bought, in grace, suspended, assigned, free and its flags."""

    tenant: str
    sku_id: str
    sku_part_number: str
    name: str
    enabled: int
    warning: int
    suspended: int
    locked_out: int
    consumed: int
    available: int
    utilisation: float | None
    assigned_directly: int
    assigned_via_groups: int
    assignment_errors: int
    next_renewal: datetime | None
    trial: bool
    over_assigned: bool
    low: bool
    expiring: bool


class BalanceTotals(BaseModel):
    """Sums over a balance table."""

    products: int
    enabled: int
    warning: int
    suspended: int
    consumed: int
    available: int
    over_assigned: int
    low: int
    expiring: int


def _row(base: DomainRow, errors: int, troubled: bool, now: datetime) -> BalanceRow:
    capacity = base.enabled + base.warning
    available = base.available
    soon = base.next_renewal is not None and base.next_renewal - now <= EXPIRING_WITHIN
    return BalanceRow(
        tenant=base.tenant,
        sku_id=base.sku_id,
        sku_part_number=base.sku_part_number,
        name=base.name,
        enabled=base.enabled,
        warning=base.warning,
        suspended=base.suspended,
        locked_out=base.locked_out,
        consumed=base.consumed,
        available=available,
        utilisation=base.utilisation,
        assigned_directly=base.assigned_directly,
        assigned_via_groups=base.assigned_via_groups,
        assignment_errors=errors,
        next_renewal=base.next_renewal,
        trial=base.is_trial,
        over_assigned=base.over_assigned,
        low=capacity > 0
        and available >= 0
        and (available < LOW_UNITS or available < capacity * LOW_SHARE),
        expiring=troubled or base.warning > 0 or (base.is_trial and soon),
    )


_ERRORS = select(Sku.tenant_id, Sku.sku_id, Sku.assignment_errors).where(
    Sku.tenant_id.in_(bindparam("ids", expanding=True))
)
_TROUBLED_SKUS = (
    select(Subscription.tenant_id, Subscription.sku_id)
    .where(
        Subscription.tenant_id.in_(bindparam("ids", expanding=True)),
        Subscription.status.in_(_TROUBLED),
    )
    .distinct()
)
_SNAPSHOTS = (
    select(
        SkuSnapshot.tenant_id,
        SkuSnapshot.sku_id,
        SkuSnapshot.captured_at,
        SkuSnapshot.enabled,
        SkuSnapshot.warning,
        SkuSnapshot.consumed,
    )
    .where(
        SkuSnapshot.tenant_id.in_(bindparam("ids", expanding=True)),
        SkuSnapshot.captured_at >= bindparam("since"),
    )
    .order_by(SkuSnapshot.tenant_id, SkuSnapshot.sku_id, SkuSnapshot.captured_at)
)


def balance_rows(session: Session, tenant: str | None = None) -> list[BalanceRow]:
    """Every SKU of one tenant (or all tenants), by tenant then product name.

    The arithmetic is the storage layer's (shared with the CLI); this adds the dashboard's flags.
    """
    names = {ref.id: ref.name for ref in tenant_refs(session, tenant)}  # the caller's scope
    visible = set(names.values())
    rows_in_scope = [r for r in storage_balance_rows(session, tenant) if r.tenant in visible]
    base = with_names(session, rows_in_scope)
    if not base:
        return []
    connection = session.connection()  # prebuilt Core statements: see queries.common
    errors = {
        (names[r.tenant_id], r.sku_id): r.assignment_errors
        for r in connection.execute(_ERRORS, ids(names))
    }
    troubled = {
        (names[r.tenant_id], r.sku_id) for r in connection.execute(_TROUBLED_SKUS, ids(names))
    }
    now = utcnow()
    rows = [
        _row(b, errors.get((b.tenant, b.sku_id), 0), (b.tenant, b.sku_id) in troubled, now)
        for b in base
    ]
    rows.sort(key=lambda r: (r.tenant.lower(), r.name.lower()))
    return rows


def combined_rows(rows: list[BalanceRow]) -> list[BalanceRow]:
    """The balance across tenants: one row per product (skuIds are the same in every tenant)."""
    groups: dict[str, list[BalanceRow]] = defaultdict(list)
    for row in rows:
        groups[row.sku_id].append(row)
    combined = []
    for sku_id, parts in groups.items():
        enabled, warning = sum(p.enabled for p in parts), sum(p.warning for p in parts)
        consumed = sum(p.consumed for p in parts)
        available = available_units(enabled, warning, consumed)
        renewals = [p.next_renewal for p in parts if p.next_renewal is not None]
        combined.append(
            BalanceRow(
                tenant=ALL_TENANTS,
                sku_id=sku_id,
                sku_part_number=parts[0].sku_part_number,
                name=parts[0].name,
                enabled=enabled,
                warning=warning,
                suspended=sum(p.suspended for p in parts),
                locked_out=sum(p.locked_out for p in parts),
                consumed=consumed,
                available=available,
                utilisation=utilisation_ratio(enabled, warning, consumed),
                assigned_directly=sum(p.assigned_directly for p in parts),
                assigned_via_groups=sum(p.assigned_via_groups for p in parts),
                assignment_errors=sum(p.assignment_errors for p in parts),
                next_renewal=min(renewals) if renewals else None,
                trial=any(p.trial for p in parts),
                over_assigned=any(p.over_assigned for p in parts),
                low=any(p.low for p in parts),
                expiring=any(p.expiring for p in parts),
            )
        )
    combined.sort(key=lambda r: r.name.lower())
    return combined


def totals(rows: list[BalanceRow]) -> BalanceTotals:
    """Sums for a table's footer and the summary cards."""
    return BalanceTotals(
        products=len(rows),
        enabled=sum(r.enabled for r in rows),
        warning=sum(r.warning for r in rows),
        suspended=sum(r.suspended for r in rows),
        consumed=sum(r.consumed for r in rows),
        available=sum(r.available for r in rows),
        over_assigned=sum(r.over_assigned for r in rows),
        low=sum(r.low for r in rows),
        expiring=sum(r.expiring for r in rows),
    )


def trends(
    session: Session, tenant: str | None = None, points: int = 30
) -> dict[tuple[str, str], list[tuple[datetime, int, int]]]:
    """(tenant, sku_id) → recent (time, enabled+warning, consumed) snapshots, oldest first."""
    refs = {ref.id: ref.name for ref in tenant_refs(session, tenant)}
    if not refs:
        return {}
    params = {**ids(refs), "since": utcnow() - HISTORY}
    series: dict[tuple[str, str], list[tuple[datetime, int, int]]] = defaultdict(list)
    for snap in session.connection().execute(_SNAPSHOTS, params):
        series[(refs[snap.tenant_id], snap.sku_id)].append(
            (snap.captured_at, snap.enabled + snap.warning, snap.consumed)
        )
    return {key: values[-points:] for key, values in series.items()}
