"""Usage reports downloaded while the users are read (spooled to unnamed temporary files): the
same stored usage and recommendations as a download after the sync, failures that keep the licence
sync COMPLETED and the stored usage, and no spool left open or on disk afterwards.

Real syncs over TLS through the emulator, on SQLite and PostgreSQL, with the CLI's hooks.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import cast

import httpx
import pytest
from sqlalchemy import Connection, Engine, func, select, update
from starlette.applications import Starlette

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory, connect
from licensewatch.domain.usage import Period
from licensewatch.emulator.faults import FaultInjector
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant, World
from licensewatch.graph import download
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.retry import RetryPolicy
from licensewatch.intelligence.read_models.build import publish_read_models
from licensewatch.intelligence.read_models.recommendations_build import publish_recommendations
from licensewatch.intelligence.read_models.recommendations_readers import stored_recommendations
from licensewatch.storage.database import session_scope, write_transaction
from licensewatch.storage.models import SyncStatus, utcnow
from licensewatch.storage.models.usage import UsageCollection, UsageStaging, UserUsage
from licensewatch.sync import usage_prefetch, usage_staging
from licensewatch.sync.runner import SyncResult, run_sync
from licensewatch.sync.usage import collect_usage


def _client(connection: GraphConnection) -> GraphClient:
    policy = RetryPolicy(max_attempts=3, sleep=lambda _s: None, sync_budget=5.0)
    return GraphClient(connection, retry=policy)


class Synced:
    """One enterprise tenant synced with the CLI's hooks; the spools' directory watched."""

    def __init__(
        self, make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, engine_name: str
    ) -> None:
        self.world: World = build_world(
            tenants=1, users=40, seed=3, scenario="enterprise", cert_dir=tmp_path
        )
        self.tenant: Tenant = next(iter(self.world.tenants.values()))
        self.emulator: RunningEmulator = make_emulator(self.world)
        self.engine = engine
        self.pk = add_tenant(engine, self.tenant.domain, self.tenant.tenant_id)
        self.spool_dir = tmp_path / f"spool-{engine_name}"
        self.spool_dir.mkdir()
        self.open_at_usage: list[int] = []  # spools open when the usage rows commit

    def on_usage(self, db: Connection, tenant_pk: int, /) -> None:
        self.open_at_usage.append(self.spools())
        assert not os.listdir(self.spool_dir), "a spool has a name on disk"
        publish_recommendations(db, tenant_pk)

    def sync(self) -> SyncResult:
        self.open_at_usage = []
        result = run_sync(
            self.engine,
            self.pk,
            connect(self.emulator, self.tenant),
            client_factory=_client,
            on_publish=publish_read_models,
            on_usage=self.on_usage,
        )
        assert self.spools() == 0, "a spool is still open after the sync"
        assert not os.listdir(self.spool_dir)
        return result

    def spools(self) -> int:
        """Open files of this process in the spools' directory (unnamed files included)."""
        found = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:  # closed since the listing
                continue
            found += target.startswith(str(self.spool_dir))
        return found

    def usage_due(self) -> None:
        """The last collection two days old: the next sync collects again."""
        with write_transaction(self.engine) as db:
            db.execute(
                update(UsageCollection)
                .where(UsageCollection.tenant_id == self.pk)
                .values(attempted_at=utcnow() - timedelta(days=2))
            )

    def stored(self) -> tuple[object, ...]:
        """The stored usage rows, the collection's figures and the stored recommendations."""
        with session_scope(self.engine, write=False) as session:
            rows = session.execute(
                select(UserUsage.__table__)
                .where(UserUsage.tenant_id == self.pk)
                .order_by(UserUsage.user_principal_name)
            )
            usage = [tuple(row) for row in rows]
            row = session.get(UsageCollection, self.pk)
            assert row is not None
            collection = (
                row.period,
                row.concealed,
                row.settings_readable,
                row.active_refresh_date,
                row.apps_refresh_date,
                row.mailbox_refresh_date,
                row.counts,
                row.collected_at,
            )
            staged = session.scalar(select(func.count()).select_from(UsageStaging))
        assert staged == 0
        return usage, collection, stored_recommendations(self.engine, self.tenant.domain)

    def injector(self) -> FaultInjector:
        injector: FaultInjector = cast(Starlette, self.emulator.app).state.injector
        return injector


@pytest.fixture
def synced(
    make_emulator: EmulatorFactory,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Synced:
    world = Synced(make_emulator, engine, tmp_path, engine.dialect.name)
    monkeypatch.setattr(tempfile, "tempdir", str(world.spool_dir))
    return world


def _without_time(stored: tuple[object, ...]) -> tuple[object, ...]:
    usage, collection, recommendations = stored
    return usage, cast(tuple[object, ...], collection)[:-1], recommendations


def test_reports_read_during_the_sync_store_what_a_download_after_it_stores(
    synced: Synced, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = synced.sync()
    assert result.status == SyncStatus.COMPLETED
    assert synced.open_at_usage == [3]  # the three files spooled, read after the publish
    assert len(synced.world.report_downloads) == 3
    overlapped = synced.stored()
    assert overlapped[0], "usage rows stored"
    assert overlapped[2], "recommendations stored"
    # The same reports downloaded after the sync (the collection on its own, as before).
    synced.usage_due()
    with _client(connect(synced.emulator, synced.tenant)) as client:
        outcome = collect_usage(
            synced.engine, synced.pk, client, Period.D90, on_commit=publish_recommendations
        )
    assert outcome.status == "ok"
    assert _without_time(synced.stored()) == _without_time(overlapped)
    # Past the spool's limit: nothing spooled, the reports downloaded after the publish.
    synced.usage_due()
    monkeypatch.setattr(usage_prefetch, "SPOOL_LIMIT", 1)
    assert synced.sync().status == SyncStatus.COMPLETED
    assert synced.open_at_usage == [0]
    assert _without_time(synced.stored()) == _without_time(overlapped)


def test_reports_failing_during_the_sync_keep_it_completed_and_the_stored_usage(
    synced: Synced,
) -> None:
    assert synced.sync().ok
    before = synced.stored()
    synced.usage_due()
    synced.injector().configure("503=0@/v1.0/reports")
    result = synced.sync()
    assert result.status == SyncStatus.COMPLETED, result.error_message
    assert synced.open_at_usage == [0]  # the recommendations built after all, once
    assert synced.stored() == before  # every stored row, date and count as they were
    with session_scope(synced.engine, write=False) as session:
        row = session.get(UsageCollection, synced.pk)
        assert row is not None
        assert row.status == "failed"


def test_a_download_broken_during_the_sync_is_read_again_then_given_up(
    synced: Synced, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert synced.sync().ok
    before = synced.stored()
    monkeypatch.setattr(download, "_CHUNK", 64)
    streamed: list[int] = []
    iter_bytes = httpx.Response.iter_bytes
    always = [False]

    def breaking(self: httpx.Response, chunk_size: int | None = None) -> Iterator[bytes]:
        if chunk_size is not None:
            streamed.append(chunk_size)
        for number, chunk in enumerate(iter_bytes(self, chunk_size)):
            if chunk_size is not None and number == 8 and (always[0] or len(streamed) == 1):
                raise httpx.ReadError("connection reset by peer")
            yield chunk

    monkeypatch.setattr(httpx.Response, "iter_bytes", breaking)
    # Broken once: the active users' file is downloaded again from its start, the same rows.
    synced.usage_due()
    assert synced.sync().status == SyncStatus.COMPLETED
    assert len(streamed) == 4
    assert synced.open_at_usage == [3]
    assert _without_time(synced.stored()) == _without_time(before)
    # Broken every time: given up after three tries; the sync completes, the usage stays.
    kept = synced.stored()
    synced.usage_due()
    streamed.clear()
    always[0] = True
    assert synced.sync().status == SyncStatus.COMPLETED
    assert len(streamed) == usage_staging.DOWNLOAD_ATTEMPTS
    assert synced.stored() == kept


def test_a_failed_sync_stops_the_download_and_removes_its_spools(synced: Synced) -> None:
    synced.injector().configure("500@/v1.0/users")
    result = synced.sync()  # the spools checked closed and nameless by `sync`
    assert result.status == SyncStatus.FAILED
    with session_scope(synced.engine, write=False) as session:
        assert session.scalar(select(func.count()).select_from(UserUsage)) == 0
