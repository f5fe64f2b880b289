"""The stored recommendations equal the per-request computation, whatever happened since.

After usage collection, a delta sync, a price or exclusion change, and a failed usage collection,
on SQLite files and PostgreSQL: real syncs over TLS through the emulator, the model built by the
hooks every sync caller passes (publish and usage commit) or by its first reader.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import cast

import pytest
from intelligence_world import held, users
from sqlalchemy import Engine, func, select
from starlette.applications import Starlette

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory, connect
from licensewatch.domain.usage import Period
from licensewatch.emulator import mutations
from licensewatch.emulator.faults import FaultInjector
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant as EmulatedTenant
from licensewatch.emulator.truth import ground_truth
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.retry import RetryPolicy
from licensewatch.intelligence.exclusions import exclude, exclude_holder
from licensewatch.intelligence.prices import set_price
from licensewatch.intelligence.read_models import recommendations_store as store
from licensewatch.intelligence.read_models.build import publish_read_models, refresh_read_models
from licensewatch.intelligence.read_models.fingerprint import as_of
from licensewatch.intelligence.read_models.recommendations_build import (
    is_stale,
    publish_recommendations,
)
from licensewatch.intelligence.read_models.recommendations_readers import (
    StaleCursor,
    stored_recommendations,
)
from licensewatch.intelligence.recommendations import Recommendation, recommendations_in_session
from licensewatch.intelligence.savings import Filters, Savings, tenant_savings
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant, utcnow
from licensewatch.storage.models.read_models import RecommendationRow, RecommendationSummary
from licensewatch.storage.models.usage import UsageCollection
from licensewatch.sync.runner import Mode, SyncResult, run_sync
from licensewatch.sync.usage import collect_usage

PRICES = {"SPE_E5": "57.00", "SPE_E3": "36.00", "ENTERPRISEPACK": "23.00", "STANDARDPACK": "10.00"}
PRICES |= {"O365_BUSINESS_PREMIUM": "12.50", "O365_BUSINESS_ESSENTIALS": "6.00"}


def fast_client(connection: GraphConnection) -> GraphClient:
    return GraphClient(connection, retry=RetryPolicy(max_attempts=3, sleep=lambda _s: None))


class World:
    """One emulated tenant, synced with the hooks the CLI, daemon and web app pass."""

    def __init__(
        self, make_emulator: EmulatorFactory, engine: Engine, cert_dir: Path, scenario: str
    ) -> None:
        world = build_world(tenants=1, users=60, seed=1, scenario=scenario, cert_dir=cert_dir)
        self.tenant: EmulatedTenant = next(iter(world.tenants.values()))
        self.emulator: RunningEmulator = make_emulator(world)
        self.engine = engine
        self.name = self.tenant.domain
        self.pk = add_tenant(engine, self.name, self.tenant.tenant_id)

    def sync(self, mode: Mode = "full") -> SyncResult:
        result = run_sync(
            self.engine,
            self.pk,
            connect(self.emulator, self.tenant),
            mode=mode,
            client_factory=fast_client,
            on_publish=publish_read_models,
            on_usage=publish_recommendations,
        )
        assert result.ok, result.error_message
        return result

    def fresh_without_reader(self, now: datetime | None = None) -> bool:
        """The stored recommendations match the current inputs (nobody has read them yet)."""
        with session_scope(self.engine, write=False) as session:
            tenant = session.get(Tenant, self.pk)
            assert tenant is not None
            return not is_stale(session, tenant, now or utcnow())

    def summary(self) -> tuple[object, ...]:
        with session_scope(self.engine, write=False) as session:
            row = session.get(RecommendationSummary, self.pk)
            assert row is not None
            return (row.fingerprint, row.computed_at, row.count)

    def computed(self, now: datetime | None = None) -> list[Recommendation]:
        """The per-request computation (the builder), as of the stored model's day."""
        with session_scope(self.engine, write=False) as session:
            tenant = session.get(Tenant, self.pk)
            assert tenant is not None
            return recommendations_in_session(session, tenant, now=as_of(now or utcnow()))

    def assert_equal(self, now: datetime | None = None) -> list[Recommendation]:
        stored = stored_recommendations(self.engine, self.name, now=now)
        computed = self.computed(now)
        assert stored == computed
        # The stored sums equal the sums of the computed list, filtered or not.
        for filters in (Filters(), Filters(action="remove"), Filters(confidence="high")):
            summed = tenant_savings(self.engine, [self.name], filters, now=now, limit=0)
            expected = Savings()
            for rec in computed:
                if filters.keep(rec):
                    expected.add(rec)
            got = (summed.total, summed.by_action, summed.by_product, summed.unpriced)
            assert got == (
                expected.total,
                expected.by_action,
                expected.by_product,
                expected.unpriced,
            )
            assert (summed.count, summed.users) == (expected.count, expected.users)
            assert (summed.actions(), summed.products()) == (
                expected.actions(),
                expected.products(),
            )
        return stored


def _injector(emulator: RunningEmulator) -> FaultInjector:
    injector: FaultInjector = cast(Starlette, emulator.app).state.injector
    return injector


def _price(engine: Engine, tenant: EmulatedTenant) -> None:
    present = {p.part_number for p in tenant.products.values()}
    for part, amount in PRICES.items():
        if part in present:
            set_price(engine, part, amount, "EUR", "monthly")


def test_the_rows_are_written_in_the_tables_column_order() -> None:
    assert tuple(column.name for column in store.ROWS.columns) == store.ROW_COLUMNS


@pytest.mark.parametrize("scenario", ["small-office", "enterprise", "messy", "lifecycle"])
def test_stored_after_usage_collection_and_equal_per_scenario(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, scenario: str
) -> None:
    world = World(make_emulator, engine, tmp_path, scenario)
    world.sync()
    assert world.fresh_without_reader(), "the usage commit stored the recommendations"
    stored = world.assert_equal()
    shape = sorted(
        (r.user_principal_name.lower(), r.sku_part_number, r.action, r.confidence) for r in stored
    )
    truth = ground_truth(world.tenant)["usage"]["recommendations"]
    expected = sorted(
        (t["user_principal_name"].lower(), t["sku_part_number"], t["action"], t["confidence"])
        for t in truth
    )
    assert shape == expected
    # A price: the admin hook (as the catalogue page and the API call it) stores it at once.
    _price(engine, world.tenant)
    refresh_read_models(engine)
    assert world.fresh_without_reader()
    world.assert_equal()


def test_a_delta_sync_and_admin_changes_keep_it_equal(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    world = World(make_emulator, engine, tmp_path, "messy")
    world.sync()
    _price(engine, world.tenant)
    world.sync()  # a second full sync: its publish builds with the prices
    assert world.fresh_without_reader()
    before = world.assert_equal()
    member = next(u for u in users(world.tenant) if u.account_enabled and held(u))
    mutations.set_enabled(world.tenant, member.id, False)
    assert world.sync("delta").kind == "delta"
    assert world.fresh_without_reader(), "the delta's publish stored the recommendations"
    after = world.assert_equal()
    assert before != after
    assert "remove" in {
        r.action for r in after if r.user_principal_name == member.user_principal_name
    }
    # Changes without a hook (the CLI's exclusion commands): the first reader rebuilds.
    exclude_holder(engine, "user", after[0].user_principal_name)
    assert not world.fresh_without_reader()
    excluded = world.assert_equal()
    assert after[0].user_principal_name not in {r.user_principal_name for r in excluded}
    exclude(engine, "SPE_E3", "everywhere")
    assert "SPE_E3" not in {r.sku_part_number for r in world.assert_equal()}
    set_price(engine, "ENTERPRISEPACK", "99.00", "EUR", "monthly")
    assert not world.fresh_without_reader()
    world.assert_equal()


def test_a_failed_usage_collection_keeps_the_last_model(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    world = World(make_emulator, engine, tmp_path, "enterprise")
    world.sync()
    kept = world.summary()
    stored = world.assert_equal()
    assert "downgrade" in {r.action for r in stored}  # usage-based: rests on the reports
    _injector(world.emulator).configure("503=0@/v1.0/reports")
    with fast_client(connect(world.emulator, world.tenant)) as client:
        outcome = collect_usage(
            engine, world.pk, client, Period.D30, on_commit=publish_recommendations
        )
    assert outcome.status == "failed"
    with session_scope(engine, write=False) as session:
        collection = session.get(UsageCollection, world.pk)
        assert collection is not None
        assert collection.status == "failed"
    assert world.fresh_without_reader()
    assert world.summary() == kept
    assert world.assert_equal() == stored


def test_keyset_pages_add_up_and_a_rebuild_invalidates_the_cursor(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    world = World(make_emulator, engine, tmp_path, "messy")
    world.sync()
    _price(engine, world.tenant)
    everything = world.assert_equal()
    assert len(everything) > 5
    for filters in (Filters(), Filters(action="remove"), Filters(product="SPE_E3")):
        seen: list[Recommendation] = []
        cursor: str | None = None
        while True:
            page = tenant_savings(engine, [world.name], filters, limit=3, cursor=cursor)
            assert len(page.items) <= 3
            seen += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == [r for r in everything if filters.keep(r)]
        assert page.count == len(seen)
    first = tenant_savings(engine, [world.name], limit=3)
    assert first.next_cursor is not None
    with pytest.raises(ValueError, match="not one this API returned"):
        tenant_savings(engine, [world.name], limit=3, cursor="nonsense")
    set_price(engine, "SPE_E3", "1.00", "EUR", "monthly")
    with pytest.raises(StaleCursor):
        tenant_savings(engine, [world.name], limit=3, cursor=first.next_cursor)
    with session_scope(engine, write=False) as session:
        rows = session.scalar(select(func.count()).select_from(RecommendationRow))
    assert rows == len(world.assert_equal())
