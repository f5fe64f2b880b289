"""The licence balance's queries in SQLAlchemy Core: the CLI, the web app and reports share them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, select

from licensewatch.domain.balance import BalanceRow, build_row
from licensewatch.domain.units import SubscriptionTotal
from licensewatch.storage.coltypes import utcnow
from licensewatch.storage.core_tables import skus, subscriptions, tenants

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def subscription_totals(
    bind: Connection | Session, tenant_ids: Sequence[int] | None = None
) -> dict[tuple[int, str], list[SubscriptionTotal]]:
    """(tenant id, sku id) → the SKU's subscriptions summed by status and trial flag."""
    s = subscriptions.c
    statement = select(
        s.tenant_id,
        s.sku_id,
        s.status,
        s.is_trial,
        func.sum(s.total_licenses),
        func.min(s.next_lifecycle_at),
    ).group_by(s.tenant_id, s.sku_id, s.status, s.is_trial)
    if tenant_ids is not None:
        statement = statement.where(s.tenant_id.in_(tenant_ids))
    found: dict[tuple[int, str], list[SubscriptionTotal]] = {}
    for tenant_id, sku_id, status, trial, units, first in bind.execute(statement):
        total = SubscriptionTotal(status, bool(trial), int(units or 0), first)
        found.setdefault((tenant_id, sku_id), []).append(total)
    return found


def balance_rows(
    bind: Connection | Session, tenant_name: str | None = None, *, now: datetime | None = None
) -> list[BalanceRow]:
    """Each tenant's SKUs with units, assignments, renewals and trials (domain/balance.py)."""
    k = skus.c
    statement = (
        select(tenants.c.name.label("tenant"), skus)
        .join(tenants, tenants.c.id == k.tenant_id)
        .order_by(tenants.c.name, k.sku_part_number, k.sku_id)
    )
    if tenant_name is not None:
        statement = statement.where(tenants.c.name == tenant_name)
    rows = list(bind.execute(statement))
    totals = subscription_totals(bind, sorted({row.tenant_id for row in rows}))
    now = now or utcnow()
    return [
        build_row(
            tenant=row.tenant,
            sku_id=row.sku_id,
            sku_part_number=row.sku_part_number,
            applies_to=row.applies_to,
            capability_status=row.capability_status,
            enabled=row.enabled,
            warning=row.warning,
            suspended=row.suspended,
            locked_out=row.locked_out,
            consumed=row.consumed,
            assigned_directly=row.direct_assigned,
            assigned_via_groups=row.group_assigned,
            assignment_errors=row.assignment_errors,
            subscriptions=totals.get((row.tenant_id, row.sku_id), ()),
            now=now,
        )
        for row in rows
    ]
