"""Usage reports collected with a real sync over TLS: redirect without the token, concealed names,
missing permission, throttling, daily gating, and failures that never fail the licence sync."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import cast

import httpx
import pytest
from sqlalchemy import Engine, func, select
from starlette.applications import Starlette

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory, connect
from licensewatch.domain.usage import Period
from licensewatch.emulator.faults import FaultInjector
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant, World
from licensewatch.emulator.usage_reports import conceal, refresh_date
from licensewatch.graph import download
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.retry import RetryPolicy
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.usage import UsageCollection, UsageStaging, UserUsage
from licensewatch.sync import usage_staging
from licensewatch.sync.runner import SyncResult, run_sync
from licensewatch.sync.usage import collect_usage


def _injector(emulator: RunningEmulator) -> FaultInjector:
    app = cast(Starlette, emulator.app)
    injector: FaultInjector = app.state.injector
    return injector


def _client(connection: GraphConnection) -> GraphClient:
    policy = RetryPolicy(max_attempts=3, sleep=lambda _s: None, sync_budget=5.0)
    return GraphClient(connection, retry=policy)


def _sync(engine: Engine, emulator: RunningEmulator, tenant: Tenant, pk: int) -> SyncResult:
    result = run_sync(engine, pk, connect(emulator, tenant), client_factory=_client)
    assert result.ok, result.error_message
    return result


def _collection(engine: Engine, pk: int) -> UsageCollection:
    with session_scope(engine, write=False) as session:
        row = session.get(UsageCollection, pk)
        assert row is not None
        session.expunge(row)
        return row


def _rows(engine: Engine, pk: int) -> int:
    with session_scope(engine, write=False) as session:
        count = session.scalar(
            select(func.count()).select_from(UserUsage).where(UserUsage.tenant_id == pk)
        )
        return int(count or 0)


def _msp(
    make_emulator: EmulatorFactory, tmp_path: Path
) -> tuple[World, RunningEmulator, list[Tenant]]:
    world = build_world(tenants=5, users=15, seed=2, scenario="msp", cert_dir=tmp_path)
    return world, make_emulator(world), list(world.tenants.values())


def test_reports_follow_the_redirect_without_the_token_and_are_stored(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    world, emulator, tenants = _msp(make_emulator, tmp_path)
    tenant = tenants[0]
    pk = add_tenant(engine, tenant.domain, tenant.tenant_id)
    _sync(engine, emulator, tenant, pk)
    # Three reports, each downloaded from the pre-authenticated URL with no Authorization header.
    assert sorted(world.report_downloads) == sorted(
        (name, False)
        for name in (
            "getOffice365ActiveUserDetail",
            "getM365AppUserDetail",
            "getMailboxUsageDetail",
        )
    )
    row = _collection(engine, pk)
    assert (row.status, row.period, row.concealed, row.settings_readable) == (
        "ok",
        "D90",
        False,
        True,
    )
    lagging = refresh_date(tenant)
    assert row.active_refresh_date == row.apps_refresh_date == row.mailbox_refresh_date == lagging
    assert lagging < row.attempted_at.date()  # "as of" a day or more ago
    live = tenant.user_count()
    assert row.counts["users"] == live
    assert _rows(engine, pk) == live + 1  # and the deleted user the reports still list
    with session_scope(engine, write=False) as session:
        stored = {u.user_principal_name: u for u in session.scalars(select(UserUsage))}
    for _, user in tenant.iter_users_from(0):
        usage = tenant.usage.users[user.id]
        got = stored[user.user_principal_name.lower()]
        assert got.exchange_last == usage.last["exchange"]
        assert got.teams_last == usage.last["teams"]
        assert got.storage_used_bytes == usage.mailbox_bytes
        assert (got.windows, got.mobile, got.web) == tuple(
            p in usage.platforms for p in ("windows", "mobile", "web")
        )
    # A second sync the same day does not read the reports again.
    _sync(engine, emulator, tenant, pk)
    assert len(world.report_downloads) == 3


def test_concealed_names_are_never_joined_and_counts_stay(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    _world, emulator, tenants = _msp(make_emulator, tmp_path)
    for tenant, readable in ((tenants[1], True), (tenants[3], False)):
        assert tenant.usage.concealed
        pk = add_tenant(engine, tenant.domain, tenant.tenant_id)
        _sync(engine, emulator, tenant, pk)
        row = _collection(engine, pk)
        # Read from admin/reportSettings, or inferred from hashed rows without that permission.
        assert (row.status, row.concealed, row.settings_readable) == ("ok", True, readable)
        assert _rows(engine, pk) == 0
        assert row.counts["users"] == tenant.user_count()
        assert row.counts["mailboxes"] > 0
    first = next(u for _, u in tenants[1].iter_users_from(0))
    assert conceal(first.user_principal_name) != first.user_principal_name


def test_missing_permission_is_a_state_and_the_sync_succeeds(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    world, emulator, tenants = _msp(make_emulator, tmp_path)
    tenant = tenants[2]
    (app,) = tenant.apps.values()
    assert "Reports.Read.All" not in app.roles
    pk = add_tenant(engine, tenant.domain, tenant.tenant_id)
    _sync(engine, emulator, tenant, pk)
    row = _collection(engine, pk)
    assert row.status == "missing_permission"
    assert row.message is not None
    assert "Reports.Read.All" in row.message
    assert "Grant admin consent" in row.message
    assert row.collected_at is None
    assert world.report_downloads == []
    # Consent granted: the next sync collects at once, not a day later.
    app.roles.add("Reports.Read.All")
    _sync(engine, emulator, tenant, pk)
    assert _collection(engine, pk).status == "ok"
    assert _rows(engine, pk) > 0


def test_throttled_reports_are_retried(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    world, emulator, tenants = _msp(make_emulator, tmp_path)
    _injector(emulator).configure("429=0@/v1.0/reports#2")
    tenant = tenants[0]
    pk = add_tenant(engine, tenant.domain, tenant.tenant_id)
    result = _sync(engine, emulator, tenant, pk)
    assert result.throttled >= 2
    assert _collection(engine, pk).status == "ok"
    assert len(world.report_downloads) == 3


def test_a_failed_collection_keeps_the_stored_usage(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    _world, emulator, tenants = _msp(make_emulator, tmp_path)
    tenant = tenants[0]
    pk = add_tenant(engine, tenant.domain, tenant.tenant_id)
    _sync(engine, emulator, tenant, pk)
    before = _collection(engine, pk)
    stored = _rows(engine, pk)
    _injector(emulator).configure("503=0@/v1.0/reports")
    with _client(connect(emulator, tenant)) as client:
        outcome = collect_usage(engine, pk, client, Period.D30)
    assert outcome.status == "failed"
    after = _collection(engine, pk)
    assert after.status == "failed"
    assert after.message is not None
    assert "usage reports could not be read" in after.message
    assert (after.collected_at, after.period, after.counts) == (
        before.collected_at,
        before.period,
        before.counts,
    )
    assert after.attempted_at - before.attempted_at < timedelta(minutes=5)
    assert _rows(engine, pk) == stored


def _stored(engine: Engine, pk: int) -> list[tuple[object, ...]]:
    with session_scope(engine, write=False) as session:
        rows = session.execute(
            select(UserUsage.__table__)
            .where(UserUsage.tenant_id == pk)
            .order_by(UserUsage.user_principal_name)
        )
        return [tuple(row) for row in rows]


def test_a_download_broken_mid_report_keeps_the_last_good_usage(
    make_emulator: EmulatorFactory,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _world, emulator, tenants = _msp(make_emulator, tmp_path)
    tenant = tenants[0]
    pk = add_tenant(engine, tenant.domain, tenant.tenant_id)
    _sync(engine, emulator, tenant, pk)
    before, stored = _collection(engine, pk), _stored(engine, pk)
    assert stored
    # Small chunks and batches: two reports and part of the third are staged (and committed)
    # before the connection breaks in the middle of the mailbox report's body.
    monkeypatch.setattr(download, "_CHUNK", 64)
    monkeypatch.setattr(usage_staging, "BATCH", 2)
    streamed: list[int] = []
    iter_bytes = httpx.Response.iter_bytes

    def breaking(self: httpx.Response, chunk_size: int | None = None) -> Iterator[bytes]:
        if chunk_size is None:  # a response read whole (not a report download)
            yield from iter_bytes(self, chunk_size)
            return
        streamed.append(chunk_size)
        for number, chunk in enumerate(iter_bytes(self, chunk_size)):
            if len(streamed) >= 3 and number == 8:  # every attempt at the mailbox report
                raise httpx.ReadError("connection reset by peer")
            yield chunk

    monkeypatch.setattr(httpx.Response, "iter_bytes", breaking)
    with _client(connect(emulator, tenant)) as client:
        outcome = collect_usage(engine, pk, client, Period.D30)
    assert outcome.status == "failed"
    assert "getMailboxUsageDetail download was interrupted" in (outcome.message or "")
    assert len(streamed) == 2 + usage_staging.DOWNLOAD_ATTEMPTS  # read again, then given up
    after = _collection(engine, pk)
    assert (after.status, after.collected_at, after.period, after.counts) == (
        "failed",
        before.collected_at,
        before.period,
        before.counts,
    )
    assert _stored(engine, pk) == stored  # every stored row as it was
    with session_scope(engine, write=False) as session:  # and nothing left staged
        assert session.scalar(select(func.count()).select_from(UsageStaging)) == 0
    monkeypatch.setattr(httpx.Response, "iter_bytes", iter_bytes)
    with _client(connect(emulator, tenant)) as client:
        assert collect_usage(engine, pk, client, Period.D90).status == "ok"
    assert _stored(engine, pk) == stored  # the same reports give the same rows


def test_a_failure_in_the_storing_transaction_keeps_the_last_good_usage(
    make_emulator: EmulatorFactory,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _world, emulator, tenants = _msp(make_emulator, tmp_path)
    tenant = tenants[0]
    pk = add_tenant(engine, tenant.domain, tenant.tenant_id)
    _sync(engine, emulator, tenant, pk)
    before, stored = _collection(engine, pk), _stored(engine, pk)
    monkeypatch.setattr(usage_staging, "BATCH", 2)  # rows staged and committed before the merge

    def failing(_db: object, _tenant: int) -> None:
        raise RuntimeError("the recommendations' build failed")

    with (
        _client(connect(emulator, tenant)) as client,
        pytest.raises(RuntimeError, match="build failed"),
    ):
        collect_usage(engine, pk, client, Period.D90, on_commit=failing)
    assert _stored(engine, pk) == stored
    after = _collection(engine, pk)
    assert (after.collected_at, after.counts) == (before.collected_at, before.counts)
    with session_scope(engine, write=False) as session:
        assert session.scalar(select(func.count()).select_from(UsageStaging)) == 0


def test_a_download_broken_once_is_read_again_from_its_start(
    make_emulator: EmulatorFactory,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _world, emulator, tenants = _msp(make_emulator, tmp_path)
    tenant = tenants[0]
    pk = add_tenant(engine, tenant.domain, tenant.tenant_id)
    _sync(engine, emulator, tenant, pk)
    before, stored = _collection(engine, pk), _stored(engine, pk)
    monkeypatch.setattr(download, "_CHUNK", 64)
    monkeypatch.setattr(usage_staging, "BATCH", 2)
    streamed: list[int] = []
    iter_bytes = httpx.Response.iter_bytes

    def breaking(self: httpx.Response, chunk_size: int | None = None) -> Iterator[bytes]:
        if chunk_size is not None:
            streamed.append(chunk_size)
        for number, chunk in enumerate(iter_bytes(self, chunk_size)):
            if len(streamed) == 1 and number == 8:  # the active users' first download only
                raise httpx.ReadError("connection reset by peer")
            yield chunk

    monkeypatch.setattr(httpx.Response, "iter_bytes", breaking)
    with _client(connect(emulator, tenant)) as client:
        outcome = collect_usage(engine, pk, client, Period.D90)
    assert outcome.status == "ok"
    assert len(streamed) == 4
    # Nothing of the broken download counted twice: the same rows and counts as before.
    assert _stored(engine, pk) == stored
    assert _collection(engine, pk).counts == before.counts
    with session_scope(engine, write=False) as session:
        assert session.scalar(select(func.count()).select_from(UsageStaging)) == 0
