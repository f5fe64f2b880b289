"""Read models: intent-named queries that always read the dataset a tenant's pointer names."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, ScalarSelect, and_, func, select
from sqlalchemy.orm import Session

from licensewatch.storage.balance_reads import balance_rows as balance_rows
from licensewatch.storage.balance_reads import subscription_totals as subscription_totals
from licensewatch.storage.models import (
    Group,
    LicenceChange,
    Sku,
    SyncRun,
    SyncStatus,
    Tenant,
    User,
)


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


def tenants_named(session: Session, tenant_name: str | None) -> list[Tenant]:
    """The tenant asked for (LookupError when there is none), or every tenant, by name."""
    statement = select(Tenant).order_by(Tenant.name)
    if tenant_name is not None:
        statement = statement.where(Tenant.name == tenant_name)
    tenants = list(session.scalars(statement))
    if tenant_name is not None and not tenants:
        raise LookupError(f"no tenant named {tenant_name!r}")
    return tenants
