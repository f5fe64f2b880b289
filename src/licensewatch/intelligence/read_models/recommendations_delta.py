"""After a delta: the stored recommendations of the changed users only, recomputed in place.

Each user's recommendations come from that user's facts (account, licences, change history,
usage row) and from tenant-wide ones (products, plans, what can be bought, groups, prices, names,
exclusions, settings, usage state, the day: `rules.py`). When the stored build's fingerprint is
that of the previous dataset with today's other inputs, and its digest of the tenant-wide facts
(`recommendations_inputs.facts_digest`) is today's, the other users' rows stay true: the changed
users' rows go (by their old and new names), theirs now are inserted at their place in the
order (between the stored rows whose order keys surround theirs, found by index: the positions
leave room between rows), and the summary moves by difference (`recommendations_totals`).
Anything else (usage collected, prices, products bought or dropped, another day) is left to the
full build.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.orm import Session

from licensewatch.domain.changed_users import MOST_FOLLOWED, ChangedUsers
from licensewatch.intelligence.read_models import recommendations_store as store
from licensewatch.intelligence.read_models import recommendations_totals as totals
from licensewatch.intelligence.read_models.fingerprint import as_of, load_inputs
from licensewatch.intelligence.read_models.recommendations_inputs import (
    facts_digest,
    recommendations_fingerprint,
)
from licensewatch.intelligence.recommendations import recommendations_in_session
from licensewatch.intelligence.recommendations.model import Recommendation
from licensewatch.intelligence.recommendations.status import usage_state
from licensewatch.storage.models import Tenant, utcnow
from licensewatch.storage.models.read_models import RecommendationSummary
from licensewatch.storage.writers import bulk_insert

log = logging.getLogger(__name__)
_CHUNK = 500
ROWS = store.ROWS
Gap = tuple[int | None, int | None]  # the positions of a new row's stored neighbours


# Built once: a delta asks them twice per new row.
_MINE = select(ROWS.c.position).where(ROWS.c.tenant_id == bindparam("t")).limit(1)
_BEFORE = _MINE.where(ROWS.c.sort_key < bindparam("k")).order_by(ROWS.c.sort_key.desc())
_AFTER = _MINE.where(ROWS.c.sort_key > bindparam("k")).order_by(ROWS.c.sort_key)


def _neighbours(connection: Connection, tenant_pk: int, key: bytes) -> Gap:
    """The positions of the stored rows just before and just after this order key (index)."""
    values = {"t": tenant_pk, "k": key}
    return connection.scalar(_BEFORE, values), connection.scalar(_AFTER, values)


def place(gaps: Sequence[Gap], step: int) -> list[int] | None:
    """Positions for new rows (in order), each in its gap between stored rows, or None: no room.

    The new rows of one gap are spread evenly over it; at either end they step as a full build
    would (`store.spacing`).
    """
    members: dict[Gap, list[int]] = {}
    for j, gap in enumerate(gaps):
        members.setdefault(gap, []).append(j)
    found = [0] * len(gaps)
    for gap, rows in members.items():
        k = len(rows)
        low, high = _bounds(gap, k, step)
        if high - low - 1 < k:
            return None
        for n, j in enumerate(rows, 1):
            found[j] = low + (high - low) * n // (k + 1)
    return found


def _bounds(gap: Gap, k: int, step: int) -> tuple[int, int]:
    """The open interval k new rows go into, between these neighbours (exclusive bounds)."""
    low, high = gap
    if low is not None and high is not None:
        return low, high
    if low is not None:
        return low, min(store.HIGHEST + 1, low + (k + 1) * step)
    if high is not None:
        return max(store.LOWEST - 1, high - (k + 1) * step), high
    return -step, k * step  # (n - 1) * step for the n-th: a full build's positions


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
    added = recommendations_in_session(session, tenant, now=day, only=changed.ids)
    keys = [store.sort_key(r) for r in added]
    nested = session.begin_nested()  # no room for the new rows: undone, and built in full
    connection = session.connection()
    mine = ROWS.c.tenant_id == tenant.id
    removed: list[Recommendation] = []
    for chunk in _chunks(names):
        under = (mine, ROWS.c.user_principal_name.in_(chunk))
        rows = connection.execute(select(ROWS).where(*under))
        removed += [store.recommendation_of(row, tenant.name) for row in rows]
        connection.execute(delete(ROWS).where(*under))
    gaps = [_neighbours(connection, tenant.id, key) for key in keys]
    positions = place(gaps, store.spacing(stored.count + len(added)))
    if positions is None:
        nested.rollback()
        log.info("tenant %s: no room left between recommendations: built in full", tenant.id)
        return False
    rows_now = (store.row_tuple(tenant.id, p, r) for p, r in zip(positions, added, strict=True))
    bulk_insert(connection, ROWS, store.ROW_COLUMNS, rows_now)
    nested.commit()
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
