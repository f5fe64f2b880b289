"""Read models: intent-named queries that always read the dataset a tenant's pointer names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, ScalarSelect, and_, func, select
from sqlalchemy.orm import Session

from licensewatch.domain.balance import BalanceRow, build_row
from licensewatch.domain.units import SubscriptionTotal
from licensewatch.storage.models import (
    Group,
    LicenceChange,
    Sku,
    Subscription,
    SyncRun,
    SyncStatus,
    Tenant,
    User,
    utcnow,
)


def subscription_totals(
    session: Session, tenant_ids: Sequence[int] | None = None
) -> dict[tuple[int, str], list[SubscriptionTotal]]:
    """(tenant id, sku id) → the SKU's subscriptions summed by status and trial flag."""
    statement = select(
        Subscription.tenant_id,
        Subscription.sku_id,
        Subscription.status,
        Subscription.is_trial,
        func.sum(Subscription.total_licenses),
        func.min(Subscription.next_lifecycle_at),
    ).group_by(
        Subscription.tenant_id, Subscription.sku_id, Subscription.status, Subscription.is_trial
    )
    if tenant_ids is not None:
        statement = statement.where(Subscription.tenant_id.in_(tenant_ids))
    found: dict[tuple[int, str], list[SubscriptionTotal]] = {}
    for tenant_id, sku_id, status, trial, units, first in session.execute(statement):
        total = SubscriptionTotal(status, bool(trial), int(units or 0), first)
        found.setdefault((tenant_id, sku_id), []).append(total)
    return found


def balance_rows(
    session: Session, tenant_name: str | None = None, *, now: datetime | None = None
) -> list[BalanceRow]:
    """Each tenant's SKUs with units, assignments, renewals and trials (domain/balance.py)."""
    statement = (
        select(Tenant.name, Sku)
        .join(Tenant, Tenant.id == Sku.tenant_id)
        .order_by(Tenant.name, Sku.sku_part_number, Sku.sku_id)
    )
    if tenant_name is not None:
        statement = statement.where(Tenant.name == tenant_name)
    skus = list(session.execute(statement))
    subscriptions = subscription_totals(session, sorted({sku.tenant_id for _, sku in skus}))
    now = now or utcnow()
    return [
        build_row(
            tenant=name,
            sku_id=sku.sku_id,
            sku_part_number=sku.sku_part_number,
            applies_to=sku.applies_to,
            capability_status=sku.capability_status,
            enabled=sku.enabled,
            warning=sku.warning,
            suspended=sku.suspended,
            locked_out=sku.locked_out,
            consumed=sku.consumed,
            assigned_directly=sku.direct_assigned,
            assigned_via_groups=sku.group_assigned,
            assignment_errors=sku.assignment_errors,
            subscriptions=subscriptions.get((sku.tenant_id, sku.sku_id), ()),
            now=now,
        )
        for name, sku in skus
    ]


def _current_dataset(tenant_id: int) -> ScalarSelect[int | None]:
    # A subquery, so each statement reads the pointer and the rows in one snapshot.
    return select(Tenant.dataset_id).where(Tenant.id == tenant_id).scalar_subquery()


def upn_share_starts(connection: Connection, tenant_id: int, shares: int) -> list[str]:
    """The first lower-cased UPN of shares 2..n of the tenant's users (none before a sync).

    Where a sharded read may split the tenant into ranges of equal size (sync/shards.py).
    """
    lowered = func.lower(User.user_principal_name)
    tiles = (
        select(lowered.label("upn"), func.ntile(shares).over(order_by=lowered).label("tile"))
        .where(
            User.dataset_id == _current_dataset(tenant_id), User.user_principal_name.is_not(None)
        )
        .subquery()
    )
    statement = select(func.min(tiles.c.upn)).group_by(tiles.c.tile).order_by(tiles.c.tile)
    return [row[0] for row in connection.execute(statement)][1:]


def last_completed_at(session: Session, tenant_id: int) -> datetime | None:
    """When the tenant's last successful sync finished."""
    statement = select(func.max(SyncRun.finished_at)).where(
        SyncRun.tenant_id == tenant_id, SyncRun.status == SyncStatus.COMPLETED
    )
    value: datetime | None = session.scalar(statement)
    return value


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One entry of the licence change history, with the names known today."""

    id: int
    tenant: str
    occurred_at: datetime
    kind: str
    user_principal_name: str | None
    user_id: str | None
    sku_id: str | None
    sku_part_number: str | None
    assigned_by_group: str | None
    group_name: str | None
    detail: dict[str, Any] | None
    run_id: int
    note: str | None = None  # e.g. that `licensewatch demo` back-dated the change

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["occurred_at"] = self.occurred_at.isoformat()
        return data


def licence_changes(
    session: Session,
    tenant_name: str | None = None,
    since: datetime | None = None,
    user_upn: str | None = None,
    kind: str | None = None,
    limit: int = 1000,
    *,
    sku_id: str | None = None,
    user_id: str | None = None,
    until: datetime | None = None,
    offset: int = 0,
    before: tuple[datetime, int] | None = None,
) -> list[ChangeRow]:
    """The change history, newest first; filters by tenant, time, user (any case) and kind.

    `since` is inclusive and `until` exclusive; `user_id` is the directory object id (stable
    when a user is renamed), `sku_id` a product; `before` (occurred_at, id) continues after the
    last row of a previous read (keyset paging: no offset to skip).
    """
    change = LicenceChange
    statement = (
        select(change, Tenant.name, Sku.sku_part_number, Group.display_name)
        .join(Tenant, Tenant.id == change.tenant_id)
        .outerjoin(Sku, and_(Sku.tenant_id == change.tenant_id, Sku.sku_id == change.sku_id))
        .outerjoin(
            Group,
            and_(Group.tenant_id == change.tenant_id, Group.id == change.assigned_by_group),
        )
        .order_by(change.occurred_at.desc(), change.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if tenant_name is not None:
        # The tenant's id as a value, not only through the join: PostgreSQL then reads the
        # (tenant_id, occurred_at) index newest first instead of sorting the tenant's history.
        tenant_id = select(Tenant.id).where(Tenant.name == tenant_name).scalar_subquery()
        statement = statement.where(Tenant.name == tenant_name, change.tenant_id == tenant_id)
    if since is not None:
        statement = statement.where(change.occurred_at >= since)
    if user_upn is not None:
        statement = statement.where(
            func.lower(change.user_principal_name) == user_upn.strip().lower()
        )
    if kind is not None:
        statement = statement.where(change.kind == kind)
    if until is not None:
        statement = statement.where(change.occurred_at < until)
    if sku_id is not None:
        statement = statement.where(change.sku_id == sku_id.strip().lower())
    if user_id is not None:
        statement = statement.where(change.user_id == user_id.strip())
    if before is not None:
        moment, last_id = before
        statement = statement.where(
            (change.occurred_at < moment) | ((change.occurred_at == moment) & (change.id < last_id))
        )
    rows: list[ChangeRow] = []
    for row, tenant, part_number, group_name in session.execute(statement):
        detail = row.detail if isinstance(row.detail, dict) else None
        # A SKU no longer subscribed keeps the part number its units change recorded.
        part = part_number or (detail or {}).get("sku_part_number")
        rows.append(
            ChangeRow(
                id=row.id,
                tenant=tenant,
                occurred_at=row.occurred_at,
                kind=row.kind,
                user_principal_name=row.user_principal_name,
                user_id=row.user_id,
                sku_id=row.sku_id,
                sku_part_number=part,
                assigned_by_group=row.assigned_by_group,
                group_name=group_name,
                detail=detail,
                run_id=row.run_id,
                note=row.note,
            )
        )
    return rows
