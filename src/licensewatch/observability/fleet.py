"""Fleet status per tenant (for `licensewatch status`): SQLAlchemy Core, no ORM models."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from licensewatch.storage.core_tables import SyncStatus, sync_runs, tenant_schedules
from licensewatch.storage.core_tables import tenants as tenant_table
from licensewatch.storage.core_tables import users as users_table
from licensewatch.storage.database import read_transaction


@dataclass(frozen=True, slots=True)
class TenantStatus:
    """What an operator needs to know about one tenant's syncs (nothing secret)."""

    id: int
    name: str
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None  # "<kind>: <message>" of the latest failed run
    failing: bool  # the latest sync failed: the tenant is backing off
    consecutive_failures: int
    next_sync_at: datetime | None
    delta_link_at: datetime | None
    delta_age_seconds: float | None
    users: int
    last_duration_seconds: float | None
    lease_owner: str | None
    lease_expires_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in asdict(self).items()
        }


def tenant_status(engine: Engine, now: datetime) -> list[TenantStatus]:
    """One row per tenant, ordered by name; a few grouped queries whatever the tenant count."""
    s, t, u = tenant_schedules.c, tenant_table.c, users_table.c
    with read_transaction(engine) as db:
        tenants = db.execute(
            select(
                t.id,
                t.name,
                t.delta_link_at,
                t.dataset_id,
                s.next_sync_at,
                s.consecutive_failures,
                s.last_success_at,
                s.lease_owner,
                s.lease_expires_at,
            )
            .select_from(tenant_table.outerjoin(tenant_schedules, s.tenant_id == t.id))
            .order_by(t.name)
        ).all()
        users: dict[int, int] = dict(
            db.execute(
                select(t.id, func.count(u.id))
                .select_from(
                    tenant_table.join(
                        users_table, (u.tenant_id == t.id) & (u.dataset_id == t.dataset_id)
                    )
                )
                .group_by(t.id)
            ).all()
        )
        failed = _latest(db, SyncStatus.FAILED)
        completed = _latest(db, SyncStatus.COMPLETED)
    rows = []
    for row in tenants:
        error = failed.get(row.id)
        success = completed.get(row.id)
        failures = row.consecutive_failures or 0
        rows.append(
            TenantStatus(
                id=row.id,
                name=row.name,
                last_success_at=row.last_success_at or (success.finished_at if success else None),
                last_error_at=error.finished_at if error else None,
                last_error=f"{error.error_kind}: {error.error_message}" if error else None,
                failing=failures > 0,
                consecutive_failures=failures,
                next_sync_at=row.next_sync_at,
                delta_link_at=row.delta_link_at,
                delta_age_seconds=(now - row.delta_link_at).total_seconds()
                if row.delta_link_at
                else None,
                users=int(users.get(row.id, 0)),
                last_duration_seconds=success.duration_ms / 1000
                if success and success.duration_ms is not None
                else None,
                lease_owner=row.lease_owner,
                lease_expires_at=row.lease_expires_at,
            )
        )
    return rows


def _latest(db: Any, status: SyncStatus) -> dict[int, Any]:
    """Each tenant's latest run in a status."""
    r = sync_runs.c
    newest = (
        select(r.tenant_id, func.max(r.id).label("run_id"))
        .where(r.status == status)
        .group_by(r.tenant_id)
        .subquery()
    )
    statement = select(
        r.tenant_id, r.finished_at, r.duration_ms, r.error_kind, r.error_message
    ).join(newest, newest.c.run_id == r.id)
    return {row.tenant_id: row for row in db.execute(statement)}
