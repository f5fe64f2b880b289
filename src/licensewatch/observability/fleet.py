"""Fleet status per tenant (for `licensewatch status`): plain SQL, on sqlite3 or SQLAlchemy."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from licensewatch.storage.kinds import SyncStatus
from licensewatch.storage.plain_sql import Bind, rows, utc

# `user_count`: the current dataset's users as the syncs store them (issue 12: counting them
# here read every user of each tenant, 4.9x `import typer` at 300k users).
TENANTS_SQL = (
    "SELECT t.id, t.name, t.delta_link_at, t.user_count, s.next_sync_at, s.consecutive_failures,"
    " s.last_success_at, s.lease_owner, s.lease_expires_at"
    " FROM tenants AS t LEFT OUTER JOIN tenant_schedules AS s ON s.tenant_id = t.id"
    " ORDER BY t.name"
)
LATEST_RUN_SQL = (  # each tenant's latest run in a status
    "SELECT r.tenant_id, r.finished_at, r.duration_ms, r.error_kind, r.error_message"
    " FROM sync_runs AS r JOIN (SELECT tenant_id, max(id) AS run_id FROM sync_runs"
    " WHERE status = :status GROUP BY tenant_id) AS newest ON newest.run_id = r.id"
)


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


def tenant_status(bind: Bind, now: datetime) -> list[TenantStatus]:
    """One row per tenant, ordered by name; three queries whatever the tenant count or size.

    `bind` holds one read transaction (`read_transaction`, or the CLI's sqlite3 snapshot).
    """
    tenants = rows(bind, TENANTS_SQL)
    failed = _latest(bind, SyncStatus.FAILED)
    completed = _latest(bind, SyncStatus.COMPLETED)
    found = []
    for tenant_id, name, delta_at, users, next_at, failures, success_at, owner, expires in tenants:
        error = failed.get(tenant_id)
        success = completed.get(tenant_id)
        failures = failures or 0
        delta_link_at = utc(delta_at)
        found.append(
            TenantStatus(
                id=tenant_id,
                name=name,
                last_success_at=utc(success_at) or (success.finished_at if success else None),
                last_error_at=error.finished_at if error else None,
                last_error=f"{error.error_kind}: {error.error_message}" if error else None,
                failing=failures > 0,
                consecutive_failures=failures,
                next_sync_at=utc(next_at),
                delta_link_at=delta_link_at,
                delta_age_seconds=(now - delta_link_at).total_seconds() if delta_link_at else None,
                users=int(users or 0),
                last_duration_seconds=success.duration_ms / 1000
                if success and success.duration_ms is not None
                else None,
                lease_owner=owner,
                lease_expires_at=utc(expires),
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class _Run:
    finished_at: datetime | None
    duration_ms: int | None
    error_kind: str | None
    error_message: str | None


def _latest(bind: Bind, status: SyncStatus) -> dict[int, _Run]:
    """Each tenant's latest run in a status."""
    found = rows(bind, LATEST_RUN_SQL, {"status": status.value})
    return {tenant_id: _Run(utc(at), ms, kind, text) for tenant_id, at, ms, kind, text in found}
