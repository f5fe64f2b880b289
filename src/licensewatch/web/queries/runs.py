"""Sync runs: history per tenant and each tenant's latest run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from licensewatch.storage.models.runs import SyncRun
from licensewatch.web.queries.common import Page, TenantRef, clamp, ids, make_page


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


def _run_row(tenant: str, run: Any) -> RunRow:
    # `run`: a SyncRun or a Core row of its columns.
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


_IN_TENANTS = SyncRun.tenant_id.in_(bindparam("ids", expanding=True))
_NEWEST = select(func.max(SyncRun.id)).where(_IN_TENANTS).group_by(SyncRun.tenant_id)
_LATEST_RUNS = select(*SyncRun.__table__.c).where(SyncRun.id.in_(_NEWEST))
_LAST_COMPLETED = (
    select(SyncRun.tenant_id, func.max(SyncRun.finished_at).label("finished"))
    .where(_IN_TENANTS, SyncRun.status == "COMPLETED")
    .group_by(SyncRun.tenant_id)
)


def latest_runs(session: Session, tenants: list[TenantRef]) -> dict[str, RunRow]:
    """Each tenant's newest run (tenants never synced are absent)."""
    names = {t.id: t.name for t in tenants}
    if not names:
        return {}
    rows = session.connection().execute(_LATEST_RUNS, ids(names))
    # A Core row has the model's attribute names: _run_row reads either.
    return {names[r.tenant_id]: _run_row(names[r.tenant_id], r) for r in rows}


def latest_completed(session: Session, tenants: list[TenantRef]) -> dict[str, datetime]:
    """When each tenant's last successful run finished."""
    names = {t.id: t.name for t in tenants}
    if not names:
        return {}
    rows = session.connection().execute(_LAST_COMPLETED, ids(names))
    return {names[r.tenant_id]: r.finished for r in rows if r.finished}
