"""A short-lived memo of a tenant's recommendations, keyed by everything they are computed from.

The dashboard card, the Savings page and the Renewals page each need a tenant's recommendations;
computing them reads every licensed user (about 1 s per 10,000 users on SQLite). Within a minute,
and while nothing they read has changed (the tenant's last sync run, its usage collection, prices,
names, settings, exclusions), one computation serves them all. The minute bounds what a missed
input could leave stale; `now` moves the rules' day windows by less than that.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.recommendations import Recommendation, recommendations_in_session
from licensewatch.storage.models import SyncRun, Tenant
from licensewatch.storage.models.intelligence import (
    CatalogProduct,
    IntelligenceSetting,
    ProductExclusion,
    ProductNameOverride,
    ProductPrice,
)
from licensewatch.storage.models.usage import RecommendationExclusion, UsageCollection

TTL_SECONDS = 60.0
MAX_ENTRIES = 64
_lock = threading.Lock()
_memo: OrderedDict[Hashable, tuple[float, list[Recommendation]]] = OrderedDict()


def _rows(session: Session, *columns: Any) -> tuple[tuple[Any, ...], ...]:
    return tuple(tuple(row) for row in session.execute(select(*columns).order_by(*columns)))


def fingerprint(session: Session, tenant: Tenant) -> Hashable:
    """What the tenant's recommendations depend on, read from small tables (and the run id)."""
    last_run = session.scalar(select(func.max(SyncRun.id)).where(SyncRun.tenant_id == tenant.id))
    usage = session.get(UsageCollection, tenant.id)
    return (
        str(session.get_bind().engine.url),  # two databases never share an entry
        tenant.id,
        tenant.dataset_id,
        last_run,
        (usage.attempted_at, usage.status, usage.concealed) if usage is not None else None,
        _rows(session, ProductPrice.sku_id, ProductPrice.amount, ProductPrice.currency,
              ProductPrice.term),
        _rows(session, IntelligenceSetting.key, IntelligenceSetting.value),
        _rows(session, ProductExclusion.sku_id, ProductExclusion.scope),
        _rows(session, RecommendationExclusion.kind, RecommendationExclusion.key),
        _rows(session, ProductNameOverride.sku_id, ProductNameOverride.name),
        session.scalar(select(func.count()).select_from(CatalogProduct)),
    )  # fmt: skip


def recommendations(
    session: Session, tenant: Tenant, now: datetime | None = None
) -> list[Recommendation]:
    """The tenant's recommendations, from the memo when its inputs are unchanged.

    An explicit `now` always computes: a caller asking about another time wants that time.
    """
    if now is not None:
        return recommendations_in_session(session, tenant, now=now)
    key = fingerprint(session, tenant)
    with _lock:
        found = _memo.get(key)
        if found is not None and time.monotonic() - found[0] < TTL_SECONDS:
            return list(found[1])
    computed = recommendations_in_session(session, tenant)
    with _lock:
        _memo[key] = (time.monotonic(), computed)
        _memo.move_to_end(key)
        while len(_memo) > MAX_ENTRIES:
            _memo.popitem(last=False)
    return list(computed)
