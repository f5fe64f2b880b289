"""A delta's publish updates the user rules' rows of the changed users only: the stored read
models then equal a full rebuild row for row (summaries, rows, fingerprints), whatever random
changes the delta carried, on SQLite files and PostgreSQL; a failing delta leaves the old ones.

Real syncs over TLS through the emulator; the emulator's mutation controls change its users.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path
from typing import Any

import pytest
from intelligence_world import held, users
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory, connect
from licensewatch.domain.changed_users import ChangedUsers
from licensewatch.emulator import mutations
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant as EmulatedTenant
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.retry import RetryPolicy
from licensewatch.intelligence.findings import FindingRule, compute_findings
from licensewatch.intelligence.prices import set_price
from licensewatch.intelligence.read_models import (
    costs_delta,
    recommendations_build,
    recommendations_delta,
)
from licensewatch.intelligence.read_models import incremental as incremental_module
from licensewatch.intelligence.read_models.build import ALL_RULES, build, publish_read_models
from licensewatch.intelligence.read_models.findings_store import USER_RULES
from licensewatch.intelligence.read_models.fingerprint import as_of
from licensewatch.intelligence.read_models.readers import stored_findings
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant, utcnow
from licensewatch.storage.models.read_models import (
    CostHolder,
    CostLine,
    CostSummary,
    FindingRow,
    FindingSummary,
    RecommendationRow,
    RecommendationSummary,
)
from licensewatch.sync.runner import Mode, SyncResult, run_sync

# Exact: each currency's monthly amounts share one exponent, so the money moves by difference.
EXACT = [
    ("SPE_E3", "36.00", "EUR", "monthly"),
    ("SPE_E5", "684.00", "EUR", "annual"),  # 57.00 a month
    ("ENTERPRISEPACK", "23.00", "EUR", "monthly"),
    ("O365_BUSINESS_PREMIUM", "19.70", "USD", "monthly"),
    ("POWER_BI_PRO", "12.00", "EUR", "monthly"),
]
# Rounding: 100.00 a year is 8.333… a month (sums round) and "12" has another exponent: the
# money is summed again from the rows, in a full build's order.
ROUNDING = [*EXACT[:2], ("ENTERPRISEPACK", "100.00", "EUR", "annual")]
ROUNDING += [EXACT[3], ("POWER_BI_PRO", "12", "EUR", "monthly")]


def _client(connection: GraphConnection) -> GraphClient:
    return GraphClient(connection, retry=RetryPolicy(max_attempts=3, sleep=lambda _s: None))


class World:
    """One emulated tenant synced through the publish callback, which records what it got."""

    def __init__(
        self,
        make_emulator: EmulatorFactory,
        engine: Engine,
        cert_dir: Path,
        scenario: str,
        seed: int,
    ) -> None:
        world = build_world(tenants=1, users=70, seed=seed, scenario=scenario, cert_dir=cert_dir)
        self.tenant: EmulatedTenant = next(iter(world.tenants.values()))
        for app in self.tenant.apps.values():
            app.roles.add("AuditLog.Read.All")
        self.emulator: RunningEmulator = make_emulator(world)
        self.engine = engine
        self.pk = add_tenant(engine, self.tenant.domain, self.tenant.tenant_id)
        self.passed: list[ChangedUsers | None] = []

    def hook(
        self,
        connection: Connection,
        tenant_pk: int,
        /,
        changed: ChangedUsers | None = None,
        *,
        usage_follows: bool = False,
    ) -> None:
        self.passed.append(changed)
        publish_read_models(connection, tenant_pk, changed=changed, usage_follows=usage_follows)

    def sync(self, mode: Mode, hook: Any = None) -> SyncResult:
        """With the hooks every sync caller passes (the first sync collects usage reports)."""
        connection = connect(self.emulator, self.tenant)
        return run_sync(
            self.engine,
            self.pk,
            connection,
            mode=mode,
            client_factory=_client,
            on_publish=hook or self.hook,
            on_usage=recommendations_build.publish_recommendations,
        )

    def stored(self) -> dict[str, Any]:
        """Every stored read-model row of the tenant, in the order readers read them."""
        with session_scope(self.engine, write=False) as session:
            mine = FindingSummary.tenant_id == self.pk
            summaries = session.scalars(
                select(FindingSummary).where(mine).order_by(FindingSummary.rule)
            )
            found: dict[str, Any] = {s.rule: _summary(s) for s in summaries}
            for rule in FindingRule:
                order = FindingRow.key if rule in USER_RULES else FindingRow.position
                rows = session.execute(
                    select(FindingRow.key, FindingRow.name, FindingRow.detail)
                    .add_columns(FindingRow.products, FindingRow.units, FindingRow.cost)
                    .where(FindingRow.tenant_id == self.pk, FindingRow.rule == rule.value)
                    .order_by(order)
                )
                found[f"rows:{rule.value}"] = [tuple(row) for row in rows]
            costs = session.get(CostSummary, self.pk)
            assert costs is not None
            found["costs"] = (costs.fingerprint, costs.purchased, costs.assigned, costs.unassigned)
            lines = session.execute(
                select(CostLine.section, CostLine.position, CostLine.key, CostLine.costs)
                .where(CostLine.tenant_id == self.pk)
                .order_by(CostLine.section, CostLine.position)
            )
            found["cost_lines"] = [tuple(line) for line in lines]
            holders = session.execute(
                select(CostHolder.attribute, CostHolder.label, CostHolder.sku_id)
                .add_columns(CostHolder.holders)
                .where(CostHolder.tenant_id == self.pk)
                .order_by(CostHolder.attribute, CostHolder.label, CostHolder.sku_id)
            )
            found["cost_holders"] = [tuple(row) for row in holders]
            found |= _recommendations(session, self.pk)
            return found

    def rebuilt(self) -> dict[str, Any]:
        """The same after a full build from scratch (committed: the test compares both)."""
        with session_scope(self.engine) as session:
            tenant = session.get(Tenant, self.pk)
            assert tenant is not None
            build(session, tenant, utcnow(), rules=ALL_RULES, costs=True)
            recommendations_build.build(session, tenant, utcnow())
        return self.stored()


def _recommendations(session: Session, tenant_pk: int) -> dict[str, Any]:
    """The stored recommendations: the summary (sums and seats parsed) and every row in order
    (positions only order them: a delta leaves room between its neighbours)."""
    s = session.get(RecommendationSummary, tenant_pk)
    assert s is not None
    summary = (s.dataset_id, s.fingerprint, s.facts, s.usage_as_of, s.count, s.users)
    columns = [c for c in RecommendationRow.__table__.columns if c.name != "position"]
    rows = session.execute(
        select(*columns)
        .where(RecommendationRow.tenant_id == tenant_pk)
        .order_by(RecommendationRow.position)
    )
    return {
        "recommendations": (*summary, s.totals, json.loads(s.seats)),
        "recommendation_rows": [tuple(row) for row in rows],
    }


def _summary(s: FindingSummary) -> tuple[Any, ...]:
    # Not computed_at and build_ms: they differ, of course.
    texts = (s.title, s.subject, s.fix, s.unavailable)
    return (s.dataset_id, s.fingerprint, *texts, s.count, s.rows, s.cost)


def _prepared(world: World, prices: list[tuple[str, str, str, str]] = EXACT) -> World:
    assert world.sync("full").ok  # the products must be known before they can have a price
    for part, amount, currency, term in prices:
        try:
            set_price(world.engine, part, amount, currency, term)
        except (LookupError, ValueError):
            continue  # not a product of this scenario
    assert world.sync("full").ok
    return world


KINDS = ["enable", "department", "rename", "hire", "delete", "assign", "unassign", "group"]
KINDS.append("guest")


def _mutate(tenant: EmulatedTenant, rng: random.Random, count: int) -> None:
    """`count` random changes to users: the kinds a delta carries."""
    skus = sorted(tenant.products)
    groups = sorted(g.id for g in tenant.groups.values() if g.assigned_licenses)
    for _ in range(count):
        everyone = users(tenant)
        user = rng.choice(everyone)
        kind = rng.choice(
            [
                "enable",
                "department",
                "rename",
                "hire",
                "delete",
                "assign",
                "unassign",
                "group",
                "guest",
            ]
        )
        try:
            if kind == "enable":
                mutations.set_enabled(tenant, user.id, not user.account_enabled)
            elif kind == "department":
                mutations.update(tenant, user.id, {"department": rng.choice(["Sales", "IT", None])})
            elif kind == "rename":
                local = f"renamed{rng.randrange(10**6)}"
                mutations.update(tenant, user.id, {"userPrincipalName": f"{local}@{tenant.domain}"})
            elif kind == "hire":
                name = f"New Hire{rng.randrange(10**6)}"
                mutations.hire(tenant, {"displayName": name}, rng.sample(skus, 1))
            elif kind == "delete":
                mutations.delete(tenant, user.id, soft=rng.random() < 0.5)
            elif kind == "assign":
                mutations.assign(tenant, user.id, rng.choice(skus), force=True)
            elif kind == "unassign" and held(user):
                mutations.unassign(tenant, user.id, rng.choice(sorted(held(user))))
            elif kind == "group" and groups:
                group = rng.choice(groups)
                if user.id in tenant.groups[group].member_ids:
                    mutations.remove_member(tenant, group, user.id)
                else:
                    mutations.add_member(tenant, group, user.id)
            elif kind == "guest":
                mutations.update(tenant, user.id, {"userType": rng.choice(["Guest", "Member"])})
        except (ValueError, LookupError):
            continue  # a change the tenant refuses (no free unit, ...): the next one


@pytest.mark.parametrize(
    ("scenario", "seed", "prices"),
    [("messy", 3, EXACT), ("enterprise", 11, EXACT), ("messy", 4, ROUNDING)],
    ids=["messy-exact", "enterprise-exact", "messy-rounding"],
)
def test_incremental_updates_equal_a_full_rebuild(
    make_emulator: EmulatorFactory,
    engine: Engine,
    tmp_path: Path,
    scenario: str,
    seed: int,
    prices: list[tuple[str, str, str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=incremental_module.__name__)
    caplog.set_level(logging.DEBUG, logger=costs_delta.__name__)
    caplog.set_level(logging.DEBUG, logger=recommendations_delta.__name__)
    world = _prepared(World(make_emulator, engine, tmp_path, scenario, seed), prices)
    rng = random.Random(f"incremental:{scenario}:{seed}")
    followed = costs_followed = False
    first = world.stored()["recommendation_rows"]
    assert {row[4] for row in first} >= {"remove", "downgrade"}, "usage-based ones too"
    for round_ in range(4):
        _mutate(world.tenant, rng, rng.choice([1, 3, 8]))
        world.passed.clear()
        result = world.sync("delta")
        assert result.ok, result.error_message
        assert result.kind == "delta"
        assert len(world.passed) == 1
        assert world.passed[0] is not None, "a delta passes the changed users"
        followed = followed or "7 rules follow" in caplog.text
        costs_followed = costs_followed or "the costs follow" in caplog.text
        recs_followed = "the recommendations follow" in caplog.text
        caplog.clear()
        assert recs_followed, f"round {round_}: the recommendations followed the changed users"
        incremental = world.stored()
        assert incremental == world.rebuilt(), f"round {round_}"
        # What readers show equals a computation from scratch (no rebuild by the reader).
        now = utcnow()
        shown = stored_findings(world.engine, world.tenant.domain, now=now, limit=None)
        assert shown == compute_findings(world.engine, world.pk, now=as_of(now))
    assert followed, "every user rule was updated in place, not rebuilt"
    assert costs_followed, "the costs were moved by the changed users, not rebuilt"


def test_changed_products_or_groups_rebuild_everything(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    world = _prepared(World(make_emulator, engine, tmp_path, "messy", 5))
    group = next(g for g in world.tenant.groups.values() if g.assigned_licenses)
    group.display_name += " (renamed)"  # every row naming the group must change
    mutations.set_enabled(world.tenant, users(world.tenant)[0].id, False)
    world.passed.clear()
    assert world.sync("delta").ok
    assert world.passed == [None]
    assert world.stored() == world.rebuilt()


def test_a_failed_delta_leaves_the_last_good_read_models(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    world = _prepared(World(make_emulator, engine, tmp_path, "messy", 7))
    before = world.stored()
    _mutate(world.tenant, random.Random(1), 6)

    def update_then_fail(
        connection: Connection, tenant_pk: int, /, changed: ChangedUsers | None = None
    ) -> None:
        assert changed is not None
        publish_read_models(connection, tenant_pk, changed=changed)
        raise RuntimeError("the disk filled up while publishing")

    failed = world.sync("delta", hook=update_then_fail)
    assert not failed.ok
    assert world.stored() == before
    assert world.rebuilt() == before  # they describe the dataset still published
    assert world.sync("delta").ok  # the same changes, published this time
    assert world.stored() == world.rebuilt()
