"""The renewal plan's growth trend: least-squares sums per product and day stored at publish
(renewal_growth_store.py), else aggregated by the database and kept per process until the
tenant's data changes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import Session

from licensewatch.domain.renewal_plan import TrendSums, trend_from_sums
from licensewatch.intelligence.renewal_growth_store import (
    built_through,
    days_after,
    growth_from_days,
)
from licensewatch.storage.models import SkuSnapshot, Tenant
from licensewatch.storage.process_memo import ProcessMemo

HISTORY = timedelta(days=90)  # the window growth is measured over
# (database URL, tenant) → ((tenant.updated_at, hour), SKU id → growth): see `growth_per_month`.
_SEEN: dict[tuple[str, int], tuple[tuple[datetime, int], dict[str, float]]] = {}
# Per database and tenant: the growth read from the stored days, by their newest snapshot and
# the hour (the window moves with time): the same answer as the aggregate, kept as it was.
_STORED: ProcessMemo[dict[str, float]] = ProcessMemo(1024)


def growth_per_month(session: Session, tenant: Tenant, now: datetime) -> dict[str, float]:
    """SKU id → holders per 30 days over the last 90 days of snapshots, kept per process until
    the tenant's snapshots change or the hour turns.

    Read from the sums stored per product and day at publish (a few hundred rows, ≈ 3 ms at
    W5's scale). When they do not include the newest snapshot (before the tenant's first
    publish since the upgrade, or after a failed build), the snapshots are aggregated: a
    daemon syncing every 15 minutes leaves 8,640 per product in 90 days.
    """
    hour = int(now.timestamp() // 3600)
    built = built_through(session, tenant.id)
    if built is not None:
        engine = session.get_bind().engine
        return _STORED.get(
            engine,
            tenant.id,
            (built, hour),
            lambda: growth_from_days(session, tenant.id, now - HISTORY),
        )
    key = (str(session.get_bind().engine.url), tenant.id)
    version = (tenant.updated_at, hour)
    cached = _SEEN.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    growth = aggregated_growth(session, tenant.id, now)
    _SEEN[key] = (version, growth)
    return growth


def aggregated_growth(session: Session, tenant_pk: int, now: datetime) -> dict[str, float]:
    """The growth computed from the snapshots themselves (what the stored days must equal)."""
    start = now - HISTORY
    x = days_after(start, session.get_bind().dialect.name)
    y = cast(SkuSnapshot.consumed, Float)
    statement = (
        select(
            SkuSnapshot.sku_id,
            func.count(),
            func.sum(x),
            func.sum(y),
            func.sum(x * x),
            func.sum(x * y),
            func.max(x) - func.min(x),
        )
        .where(SkuSnapshot.tenant_id == tenant_pk, SkuSnapshot.captured_at >= start)
        .group_by(SkuSnapshot.sku_id)
    )
    return {
        sku_id: trend_from_sums(TrendSums(n, *(float(v or 0) for v in sums)))
        for sku_id, n, *sums in session.execute(statement)
    }
