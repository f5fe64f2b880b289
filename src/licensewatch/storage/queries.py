"""Read models: intent-named queries that always read the dataset a tenant's pointer names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, ScalarSelect, and_, case, func, select
from sqlalchemy.orm import Session

from licensewatch.domain.balance import BalanceRow
from licensewatch.storage.models import (
    Group,
    LicenceChange,
    Sku,
    Subscription,
    SyncRun,
    SyncStatus,
    Tenant,
    User,
    UserLicense,
)

# Subscriptions in these states no longer renew or hold units.
_ENDED = ("Deleted",)


def balance_rows(session: Session, tenant_name: str | None = None) -> list[BalanceRow]:
    """Each tenant's SKUs with units, assignments, earliest renewal and trial flag."""
    renewals = (
        select(
            Subscription.tenant_id,
            Subscription.sku_id,
            func.min(Subscription.next_lifecycle_at).label("next_renewal"),
            func.max(case((Subscription.is_trial, 1), else_=0)).label("trial"),
        )
        .where(Subscription.status.is_(None) | Subscription.status.not_in(_ENDED))
        .group_by(Subscription.tenant_id, Subscription.sku_id)
        .subquery()
    )
    statement = (
        select(Tenant.name, Sku, renewals.c.next_renewal, renewals.c.trial)
        .join(Tenant, Tenant.id == Sku.tenant_id)
        .outerjoin(
            renewals,
            and_(renewals.c.tenant_id == Sku.tenant_id, renewals.c.sku_id == Sku.sku_id),
        )
        .order_by(Tenant.name, Sku.sku_part_number, Sku.sku_id)
    )
    if tenant_name is not None:
        statement = statement.where(Tenant.name == tenant_name)
    rows: list[BalanceRow] = []
    for name, sku, next_renewal, trial in session.execute(statement):
        rows.append(
            BalanceRow(
                tenant=name,
                sku_id=sku.sku_id,
                sku_part_number=sku.sku_part_number,
                enabled=sku.enabled,
                warning=sku.warning,
                suspended=sku.suspended,
                locked_out=sku.locked_out,
                consumed=sku.consumed,
                assigned_directly=sku.direct_assigned,
                assigned_via_groups=sku.group_assigned,
                next_renewal=next_renewal,
                is_trial=bool(trial),
            )
        )
    return rows


def latest_runs(session: Session, tenant_id: int | None = None, limit: int = 20) -> list[SyncRun]:
    """The newest sync runs, newest first, optionally of one tenant."""
    statement = select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)
    if tenant_id is not None:
        statement = statement.where(SyncRun.tenant_id == tenant_id)
    return list(session.scalars(statement))


def _current_dataset(tenant_id: int) -> ScalarSelect[int | None]:
    # A subquery, so each statement reads the pointer and the rows in one snapshot.
    return select(Tenant.dataset_id).where(Tenant.id == tenant_id).scalar_subquery()


@dataclass(frozen=True, slots=True)
class UserPage:
    """One page of a tenant's users in UPN order; pass `next_after` back for the next page."""

    users: list[User]
    next_after: tuple[str, str] | None


def tenant_users(
    session: Session,
    tenant_id: int,
    *,
    after: tuple[str, str] | None = None,
    limit: int = 100,
) -> UserPage:
    """A keyset-paged slice of the tenant's current users (one statement: one dataset)."""
    upn = func.coalesce(User.user_principal_name, "")
    statement = (
        select(User)
        .where(User.dataset_id == _current_dataset(tenant_id))
        .order_by(upn, User.id)
        .limit(limit + 1)
    )
    if after is not None:
        statement = statement.where((upn > after[0]) | and_(upn == after[0], User.id > after[1]))
    users = list(session.scalars(statement))
    more = len(users) > limit
    users = users[:limit]
    last = users[-1] if users and more else None
    next_after = (last.user_principal_name or "", last.id) if last else None
    return UserPage(users=users, next_after=next_after)


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


def user_licenses(session: Session, tenant_id: int, user_id: str) -> Sequence[UserLicense]:
    """A current user's licence rows (direct and via groups)."""
    statement = select(UserLicense).where(
        UserLicense.dataset_id == _current_dataset(tenant_id),
        UserLicense.user_id == user_id,
    )
    return list(session.scalars(statement))


def count_users(session: Session, tenant_id: int) -> int:
    """How many users the tenant's current dataset holds."""
    statement = select(func.count()).where(User.dataset_id == _current_dataset(tenant_id))
    return int(session.scalar(statement) or 0)


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
        statement = statement.where(Tenant.name == tenant_name)
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
