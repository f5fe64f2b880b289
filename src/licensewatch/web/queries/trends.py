"""The dashboard's sparklines: each tenant's newest snapshots, kept per process by the runs they
come from (a completed run's snapshots never change), so a request reads only the run list."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from licensewatch.storage.models.base import utcnow
from licensewatch.storage.models.runs import SkuSnapshot, SyncRun, SyncStatus
from licensewatch.storage.process_memo import ProcessMemo
from licensewatch.web.queries.common import tenant_refs

HISTORY = timedelta(days=90)
Point = tuple[datetime, int, int]  # (time, enabled + warning, consumed)
Series = dict[str, list[Point]]  # SKU id → points, oldest first
# Names the newest completed runs of a tenant ((tenant_id, started_at) index): their times are
# in the key, so re-dating a run (`licensewatch demo`) is a new key too.
_RUNS = (
    select(SyncRun.id, SyncRun.started_at, SyncRun.finished_at)
    .where(SyncRun.tenant_id == bindparam("tenant"), SyncRun.status == SyncStatus.COMPLETED)
    .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
    .limit(bindparam("points"))
)
_SNAPSHOTS = (
    select(
        SkuSnapshot.sku_id,
        SkuSnapshot.captured_at,
        SkuSnapshot.enabled,
        SkuSnapshot.warning,
        SkuSnapshot.consumed,
    )
    .where(SkuSnapshot.run_id.in_(bindparam("runs", expanding=True)))
    .order_by(SkuSnapshot.sku_id, SkuSnapshot.captured_at)
)
RunsKey = tuple[tuple[int, datetime | None, datetime | None], ...]
# Per database and tenant: the series of the runs read last (30 points per product: ≈ 3 kB each).
_SERIES: ProcessMemo[Series] = ProcessMemo(1024)


def trends(
    session: Session, tenant: str | None = None, points: int = 30
) -> dict[tuple[str, str], list[Point]]:
    """(tenant, sku_id) → recent (time, enabled+warning, consumed) snapshots, oldest first.

    Read from the snapshots of each tenant's newest `points` completed runs (an index range
    each), not from every snapshot of the last 90 days: a daemon syncing every 15 minutes
    stores 8,640 points per product in that time.
    """
    connection = session.connection()
    since = utcnow() - HISTORY
    found: dict[tuple[str, str], list[Point]] = {}
    for ref in tenant_refs(session, tenant):
        for sku_id, series in _series(connection, ref.id, points).items():
            recent = [point for point in series if point[0] >= since][-points:]
            if recent:
                found[(ref.name, sku_id)] = recent
    return found


def _series(connection: Connection, tenant_id: int, points: int) -> Series:
    runs: RunsKey = tuple(
        (row.id, row.started_at, row.finished_at)
        for row in connection.execute(_RUNS, {"tenant": tenant_id, "points": points})
    )
    if not runs:
        return {}

    def load() -> Series:
        series: Series = defaultdict(list)
        for snap in connection.execute(_SNAPSHOTS, {"runs": [run[0] for run in runs]}):
            point = (snap.captured_at, snap.enabled + snap.warning, snap.consumed)
            series[snap.sku_id].append(point)
        return dict(series)

    return _SERIES.get(connection.engine, tenant_id, runs, load)
