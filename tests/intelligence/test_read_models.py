"""The stored findings and costs equal a computation from scratch, whatever happened since.

After a full sync, a delta sync, a failed sync, a price change and a new day, on SQLite files and
PostgreSQL: real syncs over TLS through the emulator, the read models built in the publish
transaction by the callback every sync caller passes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from intelligence_world import held, users
from sqlalchemy import Connection, Engine, func, select

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory, connect
from licensewatch.emulator import mutations
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant as EmulatedTenant
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.retry import RetryPolicy
from licensewatch.intelligence.costs import all_costs
from licensewatch.intelligence.findings import FindingRule, compute_findings
from licensewatch.intelligence.prices import set_price
from licensewatch.intelligence.read_models.build import (
    publish_read_models,
    refresh_read_models,
    stale_rules,
)
from licensewatch.intelligence.read_models.findings_store import StaleCursor
from licensewatch.intelligence.read_models.fingerprint import as_of, load_inputs
from licensewatch.intelligence.read_models.readers import stored_costs, stored_findings
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant, utcnow
from licensewatch.storage.models.read_models import CostSummary, FindingRow, FindingSummary
from licensewatch.sync.runner import Mode, SyncResult, run_sync


def fast_client(connection: GraphConnection) -> GraphClient:
    return GraphClient(connection, retry=RetryPolicy(max_attempts=3, sleep=lambda _s: None))


class World:
    """An emulated tenant with sign-in data, registered and synced through the publish hook."""

    def __init__(self, make_emulator: EmulatorFactory, engine: Engine, cert_dir: Path) -> None:
        world = build_world(tenants=1, users=60, seed=3, scenario="messy", cert_dir=cert_dir)
        self.tenant: EmulatedTenant = next(iter(world.tenants.values()))
        for app in self.tenant.apps.values():
            app.roles.add("AuditLog.Read.All")
        self.emulator: RunningEmulator = make_emulator(world)
        self.engine = engine
        self.name = self.tenant.domain
        self.pk = add_tenant(engine, self.name, self.tenant.tenant_id)

    def sync(self, mode: Mode = "full", hook: object = publish_read_models) -> SyncResult:
        return run_sync(
            self.engine,
            self.pk,
            connect(self.emulator, self.tenant),
            mode=mode,
            client_factory=fast_client,
            on_publish=hook,  # type: ignore[arg-type]
        )

    def stored_without_rebuild(self, now: datetime | None = None) -> bool:
        """Every rule and the costs are stored for the tenant's current inputs (no reader yet)."""
        with session_scope(self.engine, write=False) as session:
            tenant = session.get(Tenant, self.pk)
            assert tenant is not None
            inputs = load_inputs(session, tenant, now or utcnow())
            costs = session.get(CostSummary, self.pk)
            fresh_costs = costs is not None and costs.fingerprint == inputs.costs()
            return not stale_rules(session, self.pk, inputs) and fresh_costs

    def snapshot(self) -> list[tuple[object, ...]]:
        """The stored summaries as they are (to tell a rebuild from none)."""
        with session_scope(self.engine, write=False) as session:
            rows = session.scalars(
                select(FindingSummary)
                .where(FindingSummary.tenant_id == self.pk)
                .order_by(FindingSummary.rule)
            )
            return [(s.rule, s.fingerprint, s.computed_at, s.count) for s in rows]

    def assert_equal_to_truth(self, now: datetime | None = None) -> None:
        now = now or utcnow()
        stored = stored_findings(self.engine, self.name, now=now, limit=None)
        assert stored == compute_findings(self.engine, self.pk, now=as_of(now))
        assert stored_costs(self.engine, self.name, now=now) == all_costs(self.engine, self.name)


@pytest.fixture
def world(make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path) -> World:
    made = World(make_emulator, engine, tmp_path)
    assert made.sync().ok  # the products must be known before they can have a price
    set_price(engine, "SPE_E3", "36.00", "EUR", "monthly")
    set_price(engine, "SPE_E5", "684.00", "EUR", "annual")
    result = made.sync()  # a second full sync: its publish builds with the prices
    assert result.ok, result.error_message
    return made


def _affected(world: World, rule: FindingRule) -> list[str]:
    (finding,) = stored_findings(world.engine, world.name, rule=rule, limit=None)
    return [a.key for a in finding.affected]


def test_built_at_publish_and_equal_after_full_and_delta_syncs(world: World) -> None:
    assert world.stored_without_rebuild(), "the full sync's publish stored every read model"
    world.assert_equal_to_truth()
    with session_scope(world.engine, write=False) as session:
        assert (session.scalar(select(func.count()).select_from(FindingRow)) or 0) > 0

    member = next(u for u in users(world.tenant) if u.account_enabled and held(u))
    assert member.user_principal_name not in _affected(world, FindingRule.DISABLED_HOLDERS)
    mutations.set_enabled(world.tenant, member.id, False)
    delta = world.sync("delta")
    assert delta.ok, delta.error_message
    assert delta.kind == "delta"
    assert world.stored_without_rebuild(), "the delta's publish stored every read model"
    assert member.user_principal_name in _affected(world, FindingRule.DISABLED_HOLDERS)
    world.assert_equal_to_truth()


def test_a_failed_sync_leaves_the_old_read_model(world: World) -> None:
    before = world.snapshot()
    victim = next(u for u in users(world.tenant) if u.account_enabled and held(u))
    mutations.set_enabled(world.tenant, victim.id, False)

    def publish_then_fail(connection: Connection, tenant_pk: int, /) -> None:
        # The read models are written, then the publish transaction fails: all rolls back.
        publish_read_models(connection, tenant_pk)
        raise RuntimeError("the disk filled up while publishing")

    failed = world.sync("full", hook=publish_then_fail)
    assert not failed.ok
    assert world.snapshot() == before
    assert world.stored_without_rebuild()
    assert victim.user_principal_name not in _affected(world, FindingRule.DISABLED_HOLDERS)
    world.assert_equal_to_truth()  # the old dataset's numbers, from the old rows


def test_a_sync_without_the_hook_is_rebuilt_by_its_first_reader(world: World) -> None:
    mutations.set_enabled(world.tenant, next(iter(users(world.tenant))).id, False)
    assert world.sync("full", hook=None).ok
    assert not world.stored_without_rebuild()
    world.assert_equal_to_truth()
    assert world.stored_without_rebuild()


def test_a_price_change_is_stored_at_once_or_by_the_next_reader(world: World) -> None:
    before = {s[0]: s for s in world.snapshot()}
    money = stored_findings(world.engine, world.name, limit=0)
    set_price(world.engine, "SPE_E3", "40.00", "EUR", "monthly")  # no refresh: a reader's job
    assert not world.stored_without_rebuild()
    world.assert_equal_to_truth()
    assert stored_findings(world.engine, world.name, limit=0) != money
    after = {s[0]: s for s in world.snapshot()}
    # Rules that show no money were not recomputed for a price; the costed ones were.
    assert after[FindingRule.DIRECT_AND_GROUP.value] == before[FindingRule.DIRECT_AND_GROUP.value]
    assert after[FindingRule.UNASSIGNED_SEATS.value] != before[FindingRule.UNASSIGNED_SEATS.value]
    refresh_read_models(world.engine)  # what an admin's change does: nothing left to rebuild
    assert world.snapshot() == list(after.values())


def test_the_inactive_rule_follows_the_date(world: World) -> None:
    today = utcnow()
    inactive = set(_affected(world, FindingRule.INACTIVE_USERS))
    # A later day on which more users count as inactive (their last sign-in grows older).
    later = next(
        day
        for day in (today + timedelta(days=n) for n in range(1, 120))
        if {
            a.key
            for f in compute_findings(world.engine, world.pk, now=as_of(day))
            if f.rule == FindingRule.INACTIVE_USERS
            for a in f.affected
        }
        != inactive
    )
    assert world.stored_without_rebuild(today)
    assert not world.stored_without_rebuild(later), "a new day makes the dated rules stale"
    kept = {s[0]: s for s in world.snapshot()}
    world.assert_equal_to_truth(later)
    assert set(_later(world, later)) != inactive
    changed = {s[0] for s in world.snapshot() if kept[s[0]] != s}
    # Only the dated rules were recomputed for the new day.
    assert changed <= {FindingRule.INACTIVE_USERS.value, FindingRule.LAPSING_SUBSCRIPTIONS.value}


def _later(world: World, now: datetime) -> list[str]:
    (finding,) = stored_findings(
        world.engine, world.name, now=now, rule=FindingRule.INACTIVE_USERS, limit=None
    )
    return [a.key for a in finding.affected]


def test_keyset_pages_add_up_and_a_rebuild_invalidates_the_cursor(world: World) -> None:
    rule = FindingRule.INACTIVE_USERS
    (everything,) = stored_findings(world.engine, world.name, rule=rule, limit=None)
    assert len(everything.affected) > 3
    keys: list[str] = []
    cursor: str | None = None
    while True:
        (page,) = stored_findings(world.engine, world.name, rule=rule, cursor=cursor, limit=2)
        keys += [a.key for a in page.affected]
        assert page.count == everything.count
        cursor = page.next_cursor
        if cursor is None:
            break
    assert keys == [a.key for a in everything.affected]
    (first,) = stored_findings(world.engine, world.name, rule=rule, limit=2)
    assert first.next_cursor is not None
    set_price(world.engine, "SPE_E3", "1.00", "EUR", "monthly")
    with pytest.raises(StaleCursor):
        stored_findings(world.engine, world.name, rule=rule, cursor=first.next_cursor, limit=2)
