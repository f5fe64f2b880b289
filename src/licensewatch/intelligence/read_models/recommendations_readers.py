"""What the Savings page, the dashboard, the API, the CLI, the renewal plan and plan creation read:
stored recommendations, checked fresh in the reading snapshot and rebuilt first when stale."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Engine, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.read_models import recommendations_store as store
from licensewatch.intelligence.read_models.readers import tenant_names
from licensewatch.intelligence.read_models.recommendations_build import (
    fingerprint_now,
    refresh_recommendations,
)
from licensewatch.intelligence.recommendations.model import Recommendation
from licensewatch.intelligence.recommendations.status import UsageState, usage_state
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant, utcnow
from licensewatch.storage.models.read_models import RecommendationSummary

T = TypeVar("T")
ATTEMPTS = 3  # rebuilt and changed again before it could be read, twice: give up
PAGE_SIZE = 100  # the Savings page's rows per page
StaleCursor = store.StaleCursor


class RecommendationsBusy(RuntimeError):
    """The inputs kept changing while the recommendations were rebuilt (try again)."""


@dataclass
class Snapshot:
    """Fresh stored recommendations of some tenants, read in one session."""

    session: Session
    tenants: list[Tenant]  # in the order asked for
    stored: dict[int, RecommendationSummary]
    names: dict[int, str] = field(default_factory=dict)

    def groups(self) -> list[store.Group]:
        return [g for t in self.tenants for g in store.groups_of(self.stored[t.id])]

    def usage(self) -> list[UsageState]:
        return [usage_state(self.session, tenant) for tenant in self.tenants]

    def condition(
        self,
        kept: Sequence[store.Group] = (),
        *,
        action: str | None = None,
        confidence: str | None = None,
        product: str | None = None,
    ) -> ColumnElement[bool]:
        pks = [t.id for t in self.tenants]
        return store.where(pks, kept, action=action, confidence=confidence, product=product)

    def token(self) -> str:
        """Names these builds: a cursor from other ones is refused (StaleCursor)."""
        text = ",".join(self.stored[t.id].fingerprint for t in self.tenants)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def cursor_of(self, row: Any) -> str:
        return f"{self.token()}." + ".".join(str(part) for part in store.key_of(row))

    def key(self, cursor: str | None) -> store.Key | None:
        if not cursor:
            return None
        token, _, rest = cursor.partition(".")
        parts = rest.split(".")
        if len(parts) != 3 or not all(p.lstrip("-").isdigit() for p in parts):
            raise ValueError(f"cursor {cursor!r} is not one this API returned")
        if token != self.token():
            raise StaleCursor("the recommendations were recomputed since this cursor: start again")
        return int(parts[0]), int(parts[1]), int(parts[2])

    def page(
        self, condition: ColumnElement[bool], cursor: str | None, limit: int
    ) -> tuple[list[Recommendation], str | None]:
        """Up to `limit` recommendations after the cursor and the next page's cursor."""
        single = len(self.tenants) == 1
        rows = store.rows_after(self.session, condition, self.key(cursor), limit + 1, single=single)
        more, rows = len(rows) > limit, rows[:limit]
        next_cursor = self.cursor_of(rows[-1]) if more and rows else None
        return [store.recommendation_of(r, self.names[r.tenant_id]) for r in rows], next_cursor

    def stream(self, condition: ColumnElement[bool]) -> Iterator[Recommendation]:
        rows = store.stream(self.session, condition, single=len(self.tenants) == 1)
        return (store.recommendation_of(r, self.names[r.tenant_id]) for r in rows)


def fresh_in(session: Session, tenants: Sequence[Tenant], now: datetime) -> Snapshot | None:
    """The snapshot when every tenant's stored recommendations are fresh in this session."""
    stored = store.summaries(session, [t.id for t in tenants])
    for tenant in tenants:
        summary = stored.get(tenant.id)
        if summary is None or summary.fingerprint != fingerprint_now(session, tenant, now):
            return None
    return Snapshot(session, list(tenants), stored, {t.id: t.name for t in tenants})


def read_fresh(
    engine: Engine,
    tenant_names: Sequence[str],
    read: Callable[[Snapshot], T],
    *,
    now: datetime | None = None,
) -> T:
    """`read` over these tenants' stored recommendations in one snapshot in which all are fresh
    (stale ones rebuilt first); LookupError for an unknown name."""
    for _ in range(ATTEMPTS):
        with session_scope(engine, write=False) as session:
            tenants = _tenants(session, tenant_names)
            snapshot = fresh_in(session, tenants, now or utcnow())
            if snapshot is not None:
                return read(snapshot)
            pks = [t.id for t in tenants]
        for pk in pks:
            refresh_recommendations(engine, pk, now)
    raise RecommendationsBusy("the recommendations changed while they were rebuilt")


def stream_fresh(
    engine: Engine,
    tenant_names: Sequence[str],
    rows: Callable[[Snapshot], Iterator[T]],
    *,
    now: datetime | None = None,
) -> Iterator[T]:
    """Like `read_fresh`, for a generator: the snapshot stays open while it is consumed."""
    for _ in range(ATTEMPTS):
        with session_scope(engine, write=False) as session:
            tenants = _tenants(session, tenant_names)
            snapshot = fresh_in(session, tenants, now or utcnow())
            if snapshot is not None:
                yield from rows(snapshot)
                return
            pks = [t.id for t in tenants]
        for pk in pks:
            refresh_recommendations(engine, pk, now)
    raise RecommendationsBusy("the recommendations changed while they were rebuilt")


def _tenants(session: Session, names: Sequence[str]) -> list[Tenant]:
    found = {t.name: t for t in session.scalars(select(Tenant).where(Tenant.name.in_(names)))}
    missing = [name for name in names if name not in found]
    if missing:
        raise LookupError(f"no tenant named {missing[0]!r}")
    return [found[name] for name in names]


def stored_recommendations(
    engine: Engine, tenant_name: str | None = None, *, now: datetime | None = None
) -> list[Recommendation]:
    """Every stored recommendation of one tenant or of each (by name), in the computed order."""
    found: list[Recommendation] = []
    for name in tenant_names(engine, tenant_name):
        found += read_fresh(engine, [name], lambda s: list(s.stream(s.condition())), now=now)
    return found


def stored_seat_counts(
    session: Session, tenant: Tenant, now: datetime | None = None
) -> dict[str, tuple[int, int]] | None:
    """SKU id → (seats freed, seats a downgrade brings), stored with the recommendations; None
    when they are stale."""
    snapshot = fresh_in(session, [tenant], now or utcnow())
    return None if snapshot is None else store.seat_counts(snapshot.stored[tenant.id])
