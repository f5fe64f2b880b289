"""The growth sums stored per product and day equal the aggregate over the snapshots themselves.

On SQLite files and PostgreSQL: for windows starting anywhere in a day (and at midnight), after
real full and delta syncs over TLS through the emulator (their publish stores the day), after
a failed sync (nothing changes), and a snapshot written without a publish is not trusted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from intelligence_world import held, users
from sqlalchemy import Connection, Engine, func, select

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory, connect
from licensewatch.domain.renewal_plan import trend_per_month
from licensewatch.emulator import mutations
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.state import Tenant as EmulatedTenant
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.retry import RetryPolicy
from licensewatch.intelligence.read_models.build import publish_read_models
from licensewatch.intelligence.renewal_growth import HISTORY, aggregated_growth, growth_per_month
from licensewatch.intelligence.renewal_growth_store import (
    publish_growth,
    resum_growth,
    stored_growth,
)
from licensewatch.storage.database import make_engine, session_scope, write_transaction
from licensewatch.storage.models import SkuSnapshot, SyncRun, Tenant, utcnow
from licensewatch.storage.models.growth import GrowthDay
from licensewatch.sync.runner import Mode, SyncResult, run_sync

SKUS = ("05e9a617-0261-4cee-bb44-138d3ef5d965", "06ebc4ee-1bb5-47dd-8120-11324bc54e06")


def _add_snapshots(engine: Engine, tenant_pk: int, points: list[tuple[datetime, int]]) -> None:
    """One completed run per time, a snapshot of each SKU (the second one shrinking)."""
    with session_scope(engine) as session:
        for when, consumed in points:
            run = SyncRun(tenant_id=tenant_pk, status="completed", started_at=when)
            session.add(run)
            session.flush()
            for k, sku in enumerate(SKUS):
                session.add(
                    SkuSnapshot(
                        run_id=run.id, sku_id=sku, tenant_id=tenant_pk, captured_at=when,
                        enabled=900, warning=0, suspended=0, locked_out=0,
                        consumed=consumed if k == 0 else 800 - consumed // 3,
                    )
                )  # fmt: skip


def _history(now: datetime) -> list[tuple[datetime, int]]:
    """Snapshots over 100 days, some at a midnight and one a microsecond before another."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    points = [(now - timedelta(hours=7 * k + 0.3), 300 + (k * 37) % 90 - k) for k in range(340)]
    points += [(midnight - timedelta(days=d), 250 + d) for d in (3, 40, 89, 90)]
    points += [(midnight - timedelta(days=12, microseconds=1), 199)]
    return points


def _equal_at(engine: Engine, tenant_pk: int, now: datetime) -> dict[str, float]:
    with session_scope(engine, write=False) as session:
        stored = stored_growth(session, tenant_pk, now - HISTORY)
        computed = aggregated_growth(session, tenant_pk, now)
    assert stored is not None, "the stored days name the newest snapshot"
    assert stored == computed
    return stored


def test_stored_days_equal_the_aggregate_wherever_the_window_starts(engine: Engine) -> None:
    tenant_pk = add_tenant(engine)
    now = utcnow()
    points = _history(now)
    _add_snapshots(engine, tenant_pk, points)
    with write_transaction(engine) as connection:
        resum_growth(connection, tenant_pk)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for when in (
        now,
        now - timedelta(hours=3.7),
        midnight + HISTORY,  # the window starts exactly at a midnight
        midnight + HISTORY - timedelta(days=2, microseconds=1),
        now - timedelta(days=30),
    ):
        growth = _equal_at(engine, tenant_pk, when)
        assert set(growth) == set(SKUS)
    inside = [(t, c) for t, c in points if t >= now - HISTORY]
    expected = trend_per_month(inside)
    assert _equal_at(engine, tenant_pk, now)[SKUS[0]] == pytest.approx(expected, abs=1e-3)
    with session_scope(engine, write=False) as session:
        days = session.scalar(select(func.count()).select_from(GrowthDay)) or 0
    assert 0 < days <= 2 * 101  # a row per product and day, not per snapshot


def test_a_snapshot_without_a_publish_is_not_trusted(engine: Engine) -> None:
    tenant_pk = add_tenant(engine)
    now = utcnow()
    _add_snapshots(engine, tenant_pk, _history(now))
    with session_scope(engine, write=False) as session:
        assert stored_growth(session, tenant_pk, now - HISTORY) is None  # never built
    with write_transaction(engine) as connection:
        resum_growth(connection, tenant_pk)
    before = _equal_at(engine, tenant_pk, now)
    _add_snapshots(engine, tenant_pk, [(now + timedelta(minutes=1), 900)])
    with session_scope(engine, write=False) as session:
        assert stored_growth(session, tenant_pk, now - HISTORY) is None  # stale: aggregated
        tenant = session.get_one(Tenant, tenant_pk)
        read = growth_per_month(session, tenant, now + timedelta(hours=2))
        assert read == aggregated_growth(session, tenant_pk, now + timedelta(hours=2))
    assert read[SKUS[0]] > before[SKUS[0]]


def _client(connection: GraphConnection) -> GraphClient:
    return GraphClient(connection, retry=RetryPolicy(max_attempts=3, sleep=lambda _s: None))


class World:
    """An emulated tenant synced through the publish hook, with 100 days of earlier history."""

    def __init__(self, make_emulator: EmulatorFactory, engine: Engine, cert_dir: Path) -> None:
        world = build_world(tenants=1, users=40, seed=5, scenario="messy", cert_dir=cert_dir)
        self.tenant: EmulatedTenant = next(iter(world.tenants.values()))
        self.emulator = make_emulator(world)
        self.engine = engine
        self.pk = add_tenant(engine, self.tenant.domain, self.tenant.tenant_id)

    def sync(self, mode: Mode = "full", hook: object = publish_read_models) -> SyncResult:
        return run_sync(
            self.engine,
            self.pk,
            connect(self.emulator, self.tenant),
            mode=mode,
            client_factory=_client,
            on_publish=hook,  # type: ignore[arg-type]
        )

    def history(self) -> None:
        """Earlier snapshots of the synced SKUs, one every 9 hours (as `licensewatch demo`
        backdates runs): summed again in full, as the demo does."""
        with session_scope(self.engine, write=False) as session:
            skus = list(
                session.scalars(select(SkuSnapshot.sku_id).where(SkuSnapshot.tenant_id == self.pk))
            )
        now = utcnow()
        with session_scope(self.engine) as session:
            for k in range(1, 270):
                when = now - timedelta(hours=9 * k)
                run = SyncRun(tenant_id=self.pk, status="completed", started_at=when)
                session.add(run)
                session.flush()
                for n, sku in enumerate(sorted(set(skus))):
                    session.add(
                        SkuSnapshot(
                            run_id=run.id, sku_id=sku, tenant_id=self.pk, captured_at=when,
                            enabled=50, warning=0, suspended=0, locked_out=0,
                            consumed=max(20 - k // 15 + (k * n) % 3, 0),
                        )
                    )  # fmt: skip
        with write_transaction(self.engine) as connection:
            resum_growth(connection, self.pk)


def test_equal_after_full_delta_and_failed_syncs(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    world = World(make_emulator, engine, tmp_path)
    assert world.sync().ok
    world.history()
    first = _equal_at(engine, world.pk, utcnow())
    assert any(value != 0 for value in first.values()), "the history makes a trend"

    # A full sync after more holders: its publish sums today's day again, no other.
    product = max(world.tenant.products.values(), key=lambda p: p.sku_id in first)
    assert product.sku_id in first
    spare = [u for u in users(world.tenant) if product.sku_id not in held(u) and u.account_enabled]
    for user in spare[:3]:
        mutations.assign(world.tenant, user.id, product.sku_id, force=True)
    full = world.sync("full")
    assert full.ok, full.error_message
    after_full = _equal_at(engine, world.pk, utcnow())
    assert after_full[product.sku_id] != first[product.sku_id]  # the new snapshot counts

    mutations.unassign(world.tenant, spare[0].id, product.sku_id)
    delta = world.sync("delta")
    assert delta.ok, delta.error_message
    assert delta.kind == "delta"
    after_delta = _equal_at(engine, world.pk, utcnow())

    def publish_then_fail(connection: Connection, tenant_pk: int, /) -> None:
        publish_read_models(connection, tenant_pk)
        raise RuntimeError("the disk filled up while publishing")

    mutations.unassign(world.tenant, spare[1].id, product.sku_id)
    failed = world.sync("full", hook=publish_then_fail)
    assert not failed.ok
    assert _equal_at(engine, world.pk, utcnow()) == after_delta  # all rolled back


def test_the_day_key_is_utc(engine: Engine) -> None:
    tenant_pk = add_tenant(engine)
    late = datetime(2026, 3, 9, 23, 59, 59, 999999, tzinfo=UTC)
    _add_snapshots(engine, tenant_pk, [(late, 10), (late + timedelta(microseconds=1), 11)])
    with write_transaction(engine) as connection:
        resum_growth(connection, tenant_pk)
    with session_scope(engine, write=False) as session:
        days = sorted(session.scalars(select(GrowthDay.day).where(GrowthDay.sku_id == SKUS[0])))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert days == [(late - epoch).days, (late - epoch).days + 1]


def test_a_publish_through_another_engine_is_read_at_once(
    engine: Engine, database_url: str
) -> None:
    """The per-process memo is keyed by the stored days' newest snapshot: another worker's
    publish (another engine) is seen on the next read, within the hour."""
    tenant_pk = add_tenant(engine)
    now = utcnow()
    _add_snapshots(engine, tenant_pk, _history(now))
    with write_transaction(engine) as connection:
        resum_growth(connection, tenant_pk)

    def read() -> dict[str, float]:
        with session_scope(engine, write=False) as session:
            return growth_per_month(session, session.get_one(Tenant, tenant_pk), now)

    before = read()
    assert read() == before == _equal_at(engine, tenant_pk, now)
    other = make_engine(database_url, upgrade=False)
    try:
        _add_snapshots(other, tenant_pk, [(now + timedelta(minutes=1), 900)])
        with write_transaction(other) as connection:
            publish_growth(connection, tenant_pk)
    finally:
        other.dispose()
    after = read()
    assert after == _equal_at(engine, tenant_pk, now)
    assert after[SKUS[0]] > before[SKUS[0]]
