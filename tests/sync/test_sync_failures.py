"""A sync failing midway keeps the previous data, records why, and the next one succeeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from emulated_tenant import expected_licences, expected_users, fast_client, register
from emulated_tenant import start as start_emulator
from sqlalchemy import Engine, event, func, insert, select

from emulator_fixtures import EmulatorFactory, connect
from licensewatch.storage.database import session_scope, write_transaction
from licensewatch.storage.models import SyncRun, SyncStatus, User, utcnow
from licensewatch.storage.writers import write_users
from licensewatch.sync import full
from licensewatch.sync.runner import run_sync
from licensewatch.sync.work import SyncProgress


def _user_rows(engine: Engine) -> dict[int, int]:
    with session_scope(engine, write=False) as session:
        statement = select(User.dataset_id, func.count()).group_by(User.dataset_id)
        return {dataset: count for dataset, count in session.execute(statement)}


def _run_row(engine: Engine, run_id: int) -> SyncRun:
    with session_scope(engine, write=False) as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        return run


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("reset@/v1.0/users#nth=3", "GraphUnavailableError"),
        ("truncate@/v1.0/users#nth=3", "GraphProtocolError"),
        ("503@/v1.0/users#nth=3", "GraphUnavailableError"),
    ],
)
def test_fault_mid_sync_keeps_previous_dataset(
    make_emulator: EmulatorFactory,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    spec: str,
    kind: str,
) -> None:
    monkeypatch.setattr(full, "USER_PAGE_SIZE", 10)  # several pages from a small tenant
    emulator, injector = start_emulator(make_emulator, users=60, seed=4, cert_dir=tmp_path)
    tenant = next(iter(emulator.world.tenants.values()))
    tenant_pk = register(engine, tenant)
    connection = connect(emulator, tenant)
    first = run_sync(engine, tenant_pk, connection, client_factory=fast_client)
    assert first.ok, first.error_message
    before = _user_rows(engine)

    victim = next(user for _, user in tenant.iter_users_from(0))
    tenant.delete_user(victim.id)
    injector.configure(spec)
    failed = run_sync(engine, tenant_pk, connection, client_factory=fast_client)

    assert failed.status == SyncStatus.FAILED
    assert failed.error_kind is not None
    assert failed.error_kind.startswith(kind)
    assert failed.pages_read >= 1  # it failed midway, after writing pages
    assert failed.request_ids
    assert _user_rows(engine) == before  # old dataset untouched, new rows removed
    run = _run_row(engine, failed.run_id)
    assert run.status == SyncStatus.FAILED
    assert run.error_kind == failed.error_kind
    assert run.error_message is not None
    assert "request-id" in run.error_message
    assert run.request_ids

    injector.configure("")
    second = run_sync(engine, tenant_pk, connection, client_factory=fast_client)
    assert second.ok, second.error_message
    assert _user_rows(engine) == {second.run_id: tenant.user_count()}


def test_interrupt_is_recorded_and_reraised(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(full, "USER_PAGE_SIZE", 10)
    emulator, _ = start_emulator(make_emulator, users=40, seed=5, cert_dir=tmp_path)
    tenant = next(iter(emulator.world.tenants.values()))
    tenant_pk = register(engine, tenant)
    connection = connect(emulator, tenant)
    assert run_sync(engine, tenant_pk, connection, client_factory=fast_client).ok
    before = _user_rows(engine)

    def interrupt(progress: SyncProgress) -> None:
        if progress.pages_read == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sync(engine, tenant_pk, connection, client_factory=fast_client, progress=interrupt)
    assert _user_rows(engine) == before
    with session_scope(engine, write=False) as session:
        last = session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert last is not None
        assert (last.status, last.error_kind) == (SyncStatus.FAILED, "interrupted")


def test_next_run_cleans_up_after_a_killed_run(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    emulator, _ = start_emulator(make_emulator, users=30, seed=6, cert_dir=tmp_path)
    tenant = next(iter(emulator.world.tenants.values()))
    tenant_pk = register(engine, tenant)
    connection = connect(emulator, tenant)
    assert run_sync(engine, tenant_pk, connection, client_factory=fast_client).ok
    # A worker that died mid-run: RUNNING, an old heartbeat, half a dataset nobody points at.
    long_ago = utcnow().replace(year=2000)
    with write_transaction(engine) as db:
        killed = db.execute(
            insert(SyncRun)
            .values(
                tenant_id=tenant_pk,
                kind="full",
                status="RUNNING",
                started_at=long_ago,
                heartbeat_at=long_ago,
                users_read=0,
                pages_read=0,
                requests=0,
                retries=0,
                throttled=0,
            )
            .returning(SyncRun.id)
        ).scalar_one()
        write_users(db, [(killed, f"orphan-{n}", tenant_pk, *([None] * 17)) for n in range(5)])
        # A long history of runs that hold no rows (deltas): the clean-up must not list them.
        history = {"tenant_id": tenant_pk, "kind": "delta", "status": "COMPLETED"}
        db.execute(insert(SyncRun), [history] * 300)
    deletes: list[Any] = []

    def watch(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if statement.startswith("DELETE FROM users"):
            deletes.append(parameters)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        result = run_sync(engine, tenant_pk, connection, client_factory=fast_client)
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert result.ok, result.error_message
    assert _user_rows(engine) == {result.run_id: tenant.user_count()}
    assert deletes
    assert all(len(str(parameters)) < 200 for parameters in deletes), deletes
    killed_run = _run_row(engine, killed)
    assert (killed_run.status, killed_run.error_kind) == (SyncStatus.FAILED, "abandoned")


def test_sign_in_activity_is_read_when_permitted(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    emulator, _ = start_emulator(make_emulator, tenants=2, users=30, seed=8, cert_dir=tmp_path)
    tenants = list(emulator.world.tenants.values())
    for index, tenant in enumerate(tenants):
        tenant.has_premium = index == 0  # the second tenant answers 403 despite the role
        for app in tenant.apps.values():
            app.roles.add("AuditLog.Read.All")
    for index, tenant in enumerate(tenants):
        tenant_pk = register(engine, tenant)
        result = run_sync(engine, tenant_pk, connect(emulator, tenant), client_factory=fast_client)
        assert result.ok, result.error_message
        assert result.sign_in_data is (index == 0)
        with session_scope(engine, write=False) as session:
            users = session.scalars(select(User).where(User.dataset_id == result.run_id)).all()
        stored = {
            (
                u.id,
                u.last_sign_in_at,
                u.last_non_interactive_sign_in_at,
                u.last_successful_sign_in_at,
            )
            for u in users
        }
        wanted = {(row[0], *row[-3:]) for row in expected_users(tenant, tenant_pk, index == 0)}
        assert stored == wanted
        if index == 0:
            assert any(row[1] for row in stored)
        assert expected_licences(tenant)  # the world has licences to compare at all
