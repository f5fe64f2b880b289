"""After a delta: the stored recommendations of the changed users only, recomputed in place.

Each user's recommendations come from that user's facts (account, licences, change history,
usage row) and from tenant-wide ones (products, plans, what can be bought, groups, prices, names,
exclusions, settings, usage state, the day: `rules.py`). When the stored build's fingerprint is
that of the previous dataset with today's other inputs, and its digest of the tenant-wide facts
(`recommendations_inputs.facts_digest`) is today's, the other users' rows stay true: the changed
users' rows go (by their old and new names), theirs now are inserted at their place in the
order, and the summary moves by difference (`recommendations_totals`). Anything else (usage
collected, prices, products bought or dropped, another day) is left to the full build.
"""

from __future__ import annotations

import bisect
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from licensewatch.domain.changed_users import MOST_FOLLOWED, ChangedUsers
from licensewatch.intelligence.read_models import recommendations_store as store
from licensewatch.intelligence.read_models import recommendations_totals as totals
from licensewatch.intelligence.read_models.fingerprint import as_of, load_inputs
from licensewatch.intelligence.read_models.recommendations_inputs import (
    facts_digest,
    recommendations_fingerprint,
)
from licensewatch.intelligence.recommendations import (
    OrderKey,
    order_key,
    recommendations_in_session,
)
from licensewatch.intelligence.recommendations.model import Recommendation
from licensewatch.intelligence.recommendations.status import usage_state
from licensewatch.storage.models import Tenant, utcnow
from licensewatch.storage.models.read_models import RecommendationSummary
from licensewatch.storage.writers import bulk_insert

log = logging.getLogger(__name__)
_CHUNK = 500
ROWS = store.ROWS


def _key(r: Recommendation) -> OrderKey:
    return order_key(
        r.yearly_saving, r.confidence, r.action, r.user_principal_name, r.sku_part_number
    )


def place(existing: Sequence[tuple[int, OrderKey]], new: Sequence[OrderKey]) -> list[int] | None:
    """Positions for the new rows (in order) between the stored ones, or None: no room left.

    A run of new rows between two stored neighbours is spread evenly over the gap; at either end
    they step as a full build of the whole would.
    """
    keys = [key for _, key in existing]
    stored = [position for position, _ in existing]
    slots: dict[int, list[int]] = {}
    for j, key in enumerate(new):
        slots.setdefault(bisect.bisect_left(keys, key), []).append(j)
    step = store.spacing(len(existing) + len(new))
    found = [0] * len(new)
    for i, members in slots.items():
        k = len(members)
        low, high = _bounds(stored, i, k, step)
        if high - low - 1 < k:
            return None
        for n, j in enumerate(members, 1):
            found[j] = low + (high - low) * n // (k + 1)
    return found


def _bounds(stored: Sequence[int], i: int, k: int, step: int) -> tuple[int, int]:
    """The open interval k new rows before stored row i go into (exclusive bounds)."""
    if not stored:
        return -step, k * step  # (n - 1) * step for the n-th: a full build's positions
    if i == 0:
        return max(store.LOWEST - 1, stored[0] - (k + 1) * step), stored[0]
    if i == len(stored):
        return stored[-1], min(store.HIGHEST + 1, stored[-1] + (k + 1) * step)
    return stored[i - 1], stored[i]


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


def follow(session: Session, tenant: Tenant, now: datetime, changed: ChangedUsers) -> bool:
    """Update the stored recommendations for the changed users, when that is exact: True; False
    (nothing written) leaves the full build to the caller."""
    if len(changed.principal_names) > MOST_FOLLOWED or len(changed.ids) > MOST_FOLLOWED:
        return False
    if changed.principal_names and not changed.ids:
        return False  # (a caller that names users without their ids)
    stored = session.get(RecommendationSummary, tenant.id)
    if stored is None or stored.facts is None:
        return False
    groups = totals.decode(stored.totals)
    inputs = load_inputs(session, tenant, now)
    previous = replace(inputs, data=(*inputs.data[:-1], changed.previous_updated_at))
    if groups is None or stored.fingerprint != recommendations_fingerprint(
        session, tenant, previous
    ):
        return False
    day = as_of(now)
    if stored.facts != facts_digest(session, tenant, day):
        return False
    started = time.perf_counter()
    fingerprint = recommendations_fingerprint(session, tenant, inputs)
    names = sorted({name for name in changed.principal_names if name} | changed.ids)
    going = set(names)
    kept = [(p, key) for p, upn, key in store.positions(session, tenant.id) if upn not in going]
    added = recommendations_in_session(session, tenant, now=day, only=changed.ids)
    positions = place(kept, [_key(r) for r in added])
    if positions is None:
        log.info("tenant %s: no room left between recommendations: built in full", tenant.id)
        return False
    connection = session.connection()
    mine = ROWS.c.tenant_id == tenant.id
    removed: list[Recommendation] = []
    for chunk in _chunks(names):
        under = (mine, ROWS.c.user_principal_name.in_(chunk))
        rows = connection.execute(select(ROWS).where(*under))
        removed += [store.recommendation_of(row, tenant.name) for row in rows]
        connection.execute(delete(ROWS).where(*under))
    rows_now = (store.row_tuple(tenant.id, p, r) for p, r in zip(positions, added, strict=True))
    bulk_insert(connection, ROWS, store.ROW_COLUMNS, rows_now)
    totals.tally(groups, removed, -1)
    totals.tally(groups, added)
    seats = totals.moved_seats(store.seat_counts(stored), removed, added)
    users = stored.users - totals.distinct_users(removed) + totals.distinct_users(added)
    connection.execute(
        update(RecommendationSummary)
        .where(RecommendationSummary.tenant_id == tenant.id)
        .values(
            dataset_id=tenant.dataset_id,
            fingerprint=fingerprint,
            computed_at=utcnow(),
            build_ms=int((time.perf_counter() - started) * 1000),
            usage_as_of=usage_state(session, tenant).as_of,
            count=stored.count - len(removed) + len(added),
            users=users,
            totals=totals.encode(groups),
            seats=totals.seats_text(seats),
        )
    )
    session.expire_all()  # the summary was changed underneath the loaded object
    log.debug(
        "tenant %s: the recommendations follow %d changed users (%d out, %d in)",
        *(tenant.id, len(changed.ids), len(removed), len(added)),
    )
    return True
