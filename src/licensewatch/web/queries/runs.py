"""Sync runs: history per tenant and each tenant's latest run."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from licensewatch.storage.models.runs import SyncRun
from licensewatch.web.queries.common import Page, TenantRef, clamp, make_page


class RunRow(BaseModel):
    """One sync run as the sync page and the API show it."""

    id: int
    tenant: str
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    users_read: int
    pages_read: int
    requests: int
    retries: int
    throttled: int
    error_kind: str | None
    error_message: str | None


def _run_row(tenant: str, run: SyncRun) -> RunRow:
    return RunRow(
        id=run.id,
        tenant=tenant,
        kind=run.kind,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_ms=run.duration_ms,
        users_read=run.users_read,
        pages_read=run.pages_read,
        requests=run.requests,
        retries=run.retries,
        throttled=run.throttled,
        error_kind=run.error_kind,
        error_message=run.error_message,
    )


def sync_runs(
    session: Session, tenants: list[TenantRef], *, limit: int = 50, offset: int = 0
) -> Page[RunRow]:
    """Runs of the given tenants, newest first."""
    limit, offset = clamp(limit, offset)
    names = {t.id: t.name for t in tenants}
    if not names:
        return make_page([], limit, offset)
    query = (
        select(SyncRun)
        .where(SyncRun.tenant_id.in_(names))
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(limit + 1)
        .offset(offset)
    )
    rows = [_run_row(names[r.tenant_id], r) for r in session.execute(query).scalars()]
    return make_page(rows, limit, offset)


def latest_runs(session: Session, tenants: list[TenantRef]) -> dict[str, RunRow]:
    """Each tenant's newest run (tenants never synced are absent)."""
    names = {t.id: t.name for t in tenants}
    if not names:
        return {}
    newest = (
        select(func.max(SyncRun.id)).where(SyncRun.tenant_id.in_(names)).group_by(SyncRun.tenant_id)
    )
    query = select(SyncRun).where(SyncRun.id.in_(newest))
    return {
        names[r.tenant_id]: _run_row(names[r.tenant_id], r)
        for r in session.execute(query).scalars()
    }


def latest_completed(session: Session, tenants: list[TenantRef]) -> dict[str, datetime]:
    """When each tenant's last successful run finished."""
    names = {t.id: t.name for t in tenants}
    if not names:
        return {}
    query = (
        select(SyncRun.tenant_id, func.max(SyncRun.finished_at).label("finished"))
        .where(SyncRun.tenant_id.in_(names), SyncRun.status == "COMPLETED")
        .group_by(SyncRun.tenant_id)
    )
    return {names[r.tenant_id]: r.finished for r in session.execute(query) if r.finished}
