"""Sync runs: history per tenant and each tenant's latest run."""

from __future__ import annotations

import heapq
import itertools
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.orm import Session

from licensewatch.storage.models.runs import SyncRun
from licensewatch.storage.models.tenants import Tenant
from licensewatch.web.queries import keyset
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


LIST = "runs"
# Up to this many tenants, each is read on its (tenant_id, started_at) index and the answers
# merged; beyond, one statement (the daemon's fleets) sorts their runs together.
MERGE_TENANTS = 50


def sync_runs(
    session: Session,
    tenants: list[TenantRef],
    *,
    limit: int = 50,
    offset: int = 0,
    cursor: str = "",
) -> Page[RunRow]:
    """Runs of the given tenants, newest first, after `cursor` (BadCursor when not ours)."""
    limit, offset = clamp(limit, offset)
    names = {t.id: t.name for t in tenants}
    if not names:
        return make_page([], limit, offset)
    order = (SyncRun.started_at, SyncRun.id)
    query = select(*SyncRun.__table__.c).order_by(*(c.desc() for c in order))
    if cursor:
        moment, run_id = keyset.decode(LIST, cursor, (str, int))
        query = query.where(keyset.after(order, (_moment(moment), run_id), descending=True))
    want = offset + limit + 1
    connection = session.connection()
    if len(names) <= MERGE_TENANTS:
        each = [
            list(connection.execute(query.where(SyncRun.tenant_id == pk).limit(want)))
            for pk in names
        ]
        newest = heapq.merge(*each, key=lambda r: (r.started_at, r.id), reverse=True)
        found = list(itertools.islice(newest, want))
    else:
        found = list(connection.execute(query.where(SyncRun.tenant_id.in_(names)).limit(want)))
    rows = [_run_row(names[r.tenant_id], r) for r in found[offset:]]
    last = rows[limit - 1] if len(rows) > limit else None
    next_at = None if last is None else keyset.encode(LIST, last.started_at.isoformat(), last.id)
    return make_page(rows, limit, offset, cursor=next_at)


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise keyset.BadCursor("the cursor is not one this list gave out: start again") from None


def _newest(*conditions: ColumnElement[bool]) -> Select[int]:
    # One index seek per tenant on (tenant_id, started_at): a GROUP BY over sync_runs read
    # every run ever recorded (a daemon syncing every 15 minutes records 35,000 a year).
    return (
        select(SyncRun.id)
        .where(SyncRun.tenant_id == Tenant.id, *conditions)
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(1)
        .correlate(Tenant)
    )


_IN_TENANTS = Tenant.id.in_(bindparam("ids", expanding=True))
_LATEST_RUNS = select(*SyncRun.__table__.c).where(
    SyncRun.id.in_(select(_newest().scalar_subquery()).where(_IN_TENANTS))
)
_LAST_COMPLETED = select(SyncRun.tenant_id, SyncRun.finished_at.label("finished")).where(
    SyncRun.id.in_(
        select(_newest(SyncRun.status == "COMPLETED").scalar_subquery()).where(_IN_TENANTS)
    )
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
