"""Database faults mid-sync: SQLite locked or full, PostgreSQL sessions killed; data intact."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from emulator_fixtures import EmulatorFactory
from licensewatch.storage import database
from licensewatch.storage.database import make_engine
from licensewatch.storage.models import SyncStatus
from licensewatch.sync import full
from licensewatch.sync.runner import run_sync
from licensewatch.sync.work import SyncProgress
from reliability_support import (
    Rig,
    change_world,
    client_factory,
    dataset_row_counts,
    orphan_references,
    register,
    runs,
    same_data,
    snapshot,
    start_rig,
    terminate_backends,
    truth,
)


@pytest.fixture
def rig(make_emulator: EmulatorFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Rig:
    monkeypatch.setattr(full, "USER_PAGE_SIZE", 10)
    return start_rig(make_emulator, tmp_path / "emulator", users=60, seed=21)


@pytest.fixture
def sqlite_engine(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Engine, Path]]:
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 300)  # read at each connect
    engine = make_engine(sqlite_url)
    path = make_url(sqlite_url).database
    assert path
    try:
        yield engine, Path(path)
    finally:
        engine.dispose()


def _baseline(engine: Engine, rig: Rig) -> int:
    tenant_pk = register(engine, rig.tenant)
    first = run_sync(engine, tenant_pk, rig.connection(), client_factory=client_factory())
    assert first.ok, first.error_message
    change_world(rig.tenant)
    return tenant_pk


def _recovers(engine: Engine, rig: Rig, tenant_pk: int) -> None:
    result = run_sync(engine, tenant_pk, rig.connection(), client_factory=client_factory())
    assert result.ok, result.error_message
    assert same_data(snapshot(engine, tenant_pk), truth(rig.tenant))
    assert dataset_row_counts(engine) == {result.run_id: len(truth(rig.tenant).users)}
    assert orphan_references(engine) == {}


def test_sqlite_write_lock_held_past_busy_timeout(
    sqlite_engine: tuple[Engine, Path], rig: Rig
) -> None:
    engine, path = sqlite_engine
    tenant_pk = _baseline(engine, rig)
    before = snapshot(engine, tenant_pk)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    released = threading.Event()

    def lock(event: SyncProgress) -> None:
        if event.phase == "users" and event.pages_read == 2 and not holder.in_transaction:
            holder.execute("BEGIN IMMEDIATE")  # another process writing past the busy_timeout

    def release(context: Any) -> None:
        # The sync's write gave up: the other writer finishes, so the failure can be recorded.
        if "database is locked" in str(context.original_exception) and not released.is_set():
            released.set()
            holder.rollback()

    event.listen(engine, "handle_error", release)
    try:
        result = run_sync(
            engine, tenant_pk, rig.connection(), client_factory=client_factory(), progress=lock
        )
    finally:
        event.remove(engine, "handle_error", release)
        holder.close()
    assert released.is_set()
    assert result.status == SyncStatus.FAILED
    assert result.error_kind == "OperationalError"
    assert "database is locked" in (result.error_message or "")
    assert snapshot(engine, tenant_pk) == before
    _recovers(engine, rig, tenant_pk)


def test_sqlite_lock_held_through_the_failure_does_not_block_the_next_run(
    sqlite_engine: tuple[Engine, Path], rig: Rig
) -> None:
    engine, path = sqlite_engine
    tenant_pk = _baseline(engine, rig)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def lock(event: SyncProgress) -> None:
        if event.phase == "users" and event.pages_read == 2 and not holder.in_transaction:
            holder.execute("BEGIN IMMEDIATE")

    try:
        result = run_sync(
            engine, tenant_pk, rig.connection(), client_factory=client_factory(), progress=lock
        )
    finally:
        holder.rollback()  # released only after run_sync returned
        holder.close()
    assert result.status == SyncStatus.FAILED
    failed_run = runs(engine, tenant_pk)[-1]
    _recovers(engine, rig, tenant_pk)  # not refused as "still running"
    closed = next(run for run in runs(engine, tenant_pk) if run.id == failed_run.id)
    assert closed.status == SyncStatus.FAILED  # closed as abandoned by the next run


def test_sqlite_disk_full(sqlite_engine: tuple[Engine, Path], rig: Rig) -> None:
    engine, _ = sqlite_engine
    tenant_pk = _baseline(engine, rig)
    before = snapshot(engine, tenant_pk)
    with engine.connect() as connection:
        pages = int(connection.exec_driver_sql("PRAGMA page_count").scalar_one())
    limit = {"pages": pages + 2}  # room for the run row, not for a second dataset

    def cap(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count={limit['pages']}")

    event.listen(engine, "checkout", cap)
    try:
        result = run_sync(engine, tenant_pk, rig.connection(), client_factory=client_factory())
    finally:
        limit["pages"] = 2**31 - 2  # "the admin freed space"; pooled connections get it too
    assert result.status == SyncStatus.FAILED
    assert result.error_kind == "OperationalError"
    assert "full" in (result.error_message or "")
    assert snapshot(engine, tenant_pk) == before
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    _recovers(engine, rig, tenant_pk)
    event.remove(engine, "checkout", cap)


@pytest.mark.postgres
def test_postgres_sessions_killed_between_pages(postgres_url: str, rig: Rig) -> None:
    engine = make_engine(postgres_url)
    try:
        tenant_pk = _baseline(engine, rig)
        killed: list[int] = []

        def kill(event: SyncProgress) -> None:
            if event.phase == "users" and event.pages_read in (2, 4):
                killed.append(terminate_backends(engine))  # as a server restart would

        result = run_sync(
            engine, tenant_pk, rig.connection(), client_factory=client_factory(), progress=kill
        )
        assert sum(killed) >= 1
        assert result.ok, result.error_message  # pool_pre_ping replaces the dead connections
        assert same_data(snapshot(engine, tenant_pk), truth(rig.tenant))
        _recovers(engine, rig, tenant_pk)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_session_killed_inside_a_write(
    postgres_url: str, rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(full, "FLUSH_USERS", 1)  # one staging commit per page, to aim the kill
    engine = make_engine(postgres_url)
    try:
        tenant_pk = _baseline(engine, rig)
        before = snapshot(engine, tenant_pk)
        updates = {"runs": 0}

        def kill_own_session(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            # Users are COPYed (no SQLAlchemy event); each page's heartbeat UPDATE follows them.
            if statement.startswith("UPDATE sync_runs"):
                updates["runs"] += 1
                if updates["runs"] == 3:  # the third page's transaction, after its COPY
                    pid = conn.connection.dbapi_connection.info.backend_pid
                    assert terminate_backends(engine, only_pid=pid) == 1

        event.listen(engine, "before_cursor_execute", kill_own_session)
        try:
            result = run_sync(engine, tenant_pk, rig.connection(), client_factory=client_factory())
        finally:
            event.remove(engine, "before_cursor_execute", kill_own_session)
        assert result.status == SyncStatus.FAILED
        assert result.error_kind == "OperationalError", result.error_message
        assert "terminat" in (result.error_message or "")
        record = runs(engine, tenant_pk)[-1]
        assert (record.id, record.status) == (result.run_id, SyncStatus.FAILED)
        assert snapshot(engine, tenant_pk) == before
        _recovers(engine, rig, tenant_pk)
    finally:
        engine.dispose()
