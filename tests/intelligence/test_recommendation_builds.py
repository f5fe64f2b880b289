"""A sync builds the stored recommendations in full at most once: on the day it collects usage
reports, after them (the publish leaves them to the usage step); a delta follows its changed
users without a full build. What a reader sees after the run is fresh in every case.

Real syncs over TLS through the emulator, with the hooks every sync caller passes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from intelligence_world import held, users
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from starlette.applications import Starlette

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory, connect
from licensewatch.domain.changed_users import ChangedUsers
from licensewatch.emulator import mutations
from licensewatch.emulator.faults import FaultInjector
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.state import Tenant as EmulatedTenant
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.retry import RetryPolicy
from licensewatch.intelligence.prices import set_price
from licensewatch.intelligence.read_models import recommendations_build, recommendations_delta
from licensewatch.intelligence.read_models.build import publish_read_models
from licensewatch.intelligence.read_models.fingerprint import as_of
from licensewatch.intelligence.read_models.recommendations_delta import follow
from licensewatch.intelligence.read_models.recommendations_readers import stored_recommendations
from licensewatch.intelligence.recommendations import recommendations_in_session
from licensewatch.storage.database import session_scope, write_transaction
from licensewatch.storage.models import Tenant, utcnow
from licensewatch.storage.models.usage import UsageCollection
from licensewatch.sync.runner import Mode, run_sync


def _client(connection: GraphConnection) -> GraphClient:
    return GraphClient(connection, retry=RetryPolicy(max_attempts=3, sleep=lambda _s: None))


class Counted:
    """The enterprise tenant, synced with the CLI's hooks; full builds and follows counted."""

    def __init__(
        self,
        make_emulator: EmulatorFactory,
        engine: Engine,
        cert_dir: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        world = build_world(tenants=1, users=50, seed=2, scenario="enterprise", cert_dir=cert_dir)
        self.tenant: EmulatedTenant = next(iter(world.tenants.values()))
        self.emulator = make_emulator(world)
        self.engine = engine
        self.pk = add_tenant(engine, self.tenant.domain, self.tenant.tenant_id)
        self.builds = 0
        self.follows: list[bool] = []
        build = recommendations_build.build

        def counted_build(session: Session, tenant: Tenant, now: datetime) -> None:
            self.builds += 1
            build(session, tenant, now)

        def counted_follow(
            session: Session, tenant: Tenant, now: datetime, changed: ChangedUsers
        ) -> bool:
            self.follows.append(follow(session, tenant, now, changed))
            return self.follows[-1]

        monkeypatch.setattr(recommendations_build, "build", counted_build)
        monkeypatch.setattr(recommendations_build, "follow", counted_follow)

    def sync(self, mode: Mode = "full") -> tuple[int, list[bool]]:
        """Sync; (full builds, follows) during it; the stored model is then fresh and equal."""
        self.builds, self.follows = 0, []
        result = run_sync(
            self.engine,
            self.pk,
            connect(self.emulator, self.tenant),
            mode=mode,
            client_factory=_client,
            on_publish=publish_read_models,
            on_usage=recommendations_build.publish_recommendations,
        )
        assert result.ok, result.error_message
        assert result.kind == mode
        counts = (self.builds, self.follows)
        with session_scope(self.engine, write=False) as session:
            tenant = session.get(Tenant, self.pk)
            assert tenant is not None
            assert not recommendations_build.is_stale(session, tenant, utcnow())
            computed = recommendations_in_session(session, tenant, now=as_of(utcnow()))
        assert self.builds == counts[0], "no reader had to build them"
        assert stored_recommendations(self.engine, self.tenant.domain) == computed
        assert self.builds == counts[0], "no reader had to build them"
        return counts

    def usage_due(self) -> None:
        """The last usage collection two days old: the next sync collects again."""
        with write_transaction(self.engine) as connection:
            connection.execute(
                update(UsageCollection)
                .where(UsageCollection.tenant_id == self.pk)
                .values(attempted_at=utcnow() - timedelta(days=2))
            )

    def change_a_user(self) -> None:
        member = next(u for u in users(self.tenant) if u.account_enabled and held(u))
        mutations.set_enabled(self.tenant, member.id, False)


def test_one_full_build_per_sync_run(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = Counted(make_emulator, engine, tmp_path, monkeypatch)
    # The first sync collects usage reports: built once, after them (twice before).
    assert world.sync() == (1, [])
    for part, amount in (("SPE_E5", "57.00"), ("SPE_E3", "36.00"), ("ENTERPRISEPACK", "23.00")):
        set_price(engine, part, amount, "EUR", "monthly")
    # The same day again: no usage step; the publish builds them.
    assert world.sync() == (1, [])
    # A delta: the changed users followed, no full build.
    world.change_a_user()
    assert world.sync("delta") == (0, [True])
    # A delta on a usage day: followed at the publish, then built once after the reports.
    world.usage_due()
    world.change_a_user()
    assert world.sync("delta") == (1, [True])
    # A full sync on a usage day whose reports fail: built once all the same, after them.
    world.usage_due()
    injector: FaultInjector = cast(Starlette, world.emulator.app).state.injector
    injector.configure("503=0@/v1.0/reports")
    assert world.sync() == (1, [])
    # No room left between two stored rows: the delta's changes are undone, and built in full.
    monkeypatch.setattr(recommendations_delta, "place", lambda gaps, step: None)
    world.change_a_user()
    assert world.sync("delta") == (1, [False])
