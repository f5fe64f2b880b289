"""Fleet status per tenant (for `licensewatch status`) and the `/healthz` verdict of a process."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, text

from licensewatch.storage.database import read_transaction
from licensewatch.storage.models import SyncRun, SyncStatus, Tenant, TenantSchedule, User


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
    s = TenantSchedule
    with read_transaction(engine) as db:
        tenants = db.execute(
            select(
                Tenant.id,
                Tenant.name,
                Tenant.delta_link_at,
                Tenant.dataset_id,
                s.next_sync_at,
                s.consecutive_failures,
                s.last_success_at,
                s.lease_owner,
                s.lease_expires_at,
            )
            .outerjoin(s, s.tenant_id == Tenant.id)
            .order_by(Tenant.name)
        ).all()
        users = dict(
            db.execute(
                select(Tenant.id, func.count(User.id))
                .join(User, (User.tenant_id == Tenant.id) & (User.dataset_id == Tenant.dataset_id))
                .group_by(Tenant.id)
            ).all()
        )
        failed = _latest(db, SyncStatus.FAILED)
        completed = _latest(db, SyncStatus.COMPLETED)
    rows = []
    for t in tenants:
        error = failed.get(t.id)
        success = completed.get(t.id)
        failures = t.consecutive_failures or 0
        rows.append(
            TenantStatus(
                id=t.id,
                name=t.name,
                last_success_at=t.last_success_at or (success.finished_at if success else None),
                last_error_at=error.finished_at if error else None,
                last_error=f"{error.error_kind}: {error.error_message}" if error else None,
                failing=failures > 0,
                consecutive_failures=failures,
                next_sync_at=t.next_sync_at,
                delta_link_at=t.delta_link_at,
                delta_age_seconds=(now - t.delta_link_at).total_seconds()
                if t.delta_link_at
                else None,
                users=int(users.get(t.id, 0)),
                last_duration_seconds=success.duration_ms / 1000
                if success and success.duration_ms is not None
                else None,
                lease_owner=t.lease_owner,
                lease_expires_at=t.lease_expires_at,
            )
        )
    return rows


def _latest(db: Any, status: SyncStatus) -> dict[int, Any]:
    """Each tenant's latest run in a status."""
    newest = (
        select(SyncRun.tenant_id, func.max(SyncRun.id).label("run_id"))
        .where(SyncRun.status == status)
        .group_by(SyncRun.tenant_id)
        .subquery()
    )
    statement = select(
        SyncRun.tenant_id,
        SyncRun.finished_at,
        SyncRun.duration_ms,
        SyncRun.error_kind,
        SyncRun.error_message,
    ).join(newest, newest.c.run_id == SyncRun.id)
    return {row.tenant_id: row for row in db.execute(statement)}


class Health:
    """The process's liveness: the scheduler loop ticks it; `/healthz` also asks the database."""

    def __init__(self, engine: Engine, max_silence: float = 60.0) -> None:
        self.engine = engine
        self.max_silence = max_silence
        self._last_tick = time.monotonic()
        self.stopping = False

    def tick(self) -> None:
        self._last_tick = time.monotonic()

    def check(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, details): healthy when the database answers and the loop is alive."""
        silence = time.monotonic() - self._last_tick
        loop_ok = silence <= self.max_silence and not self.stopping
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            database: dict[str, Any] = {"ok": True}
        except Exception as exc:  # any driver error means: not healthy
            database = {"ok": False, "error": type(exc).__name__}
        healthy = loop_ok and bool(database["ok"])
        return healthy, {
            "status": "ok" if healthy else "unhealthy",
            "database": database,
            "loop": {"ok": loop_ok, "seconds_since_tick": round(silence, 3)},
            "stopping": self.stopping,
        }
