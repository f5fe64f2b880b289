"""Process-parallel shard syncs: the sequential sync's data on both engines, clean failures."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.mutations import hire
from licensewatch.storage.database import make_engine, read_transaction
from licensewatch.storage.models import SyncStatus, User, UserLicense
from licensewatch.sync import full, row_builder
from licensewatch.sync.batch_writer import Batch
from licensewatch.sync.runner import run_sync, start_run
from licensewatch.sync.shard_processes import process_count
from licensewatch.sync.shard_sinks import CopySink, ScratchSink
from licensewatch.sync.shard_staging import ScratchStaging
from licensewatch.sync.work import SyncProgress
from reliability_support import Rig, client_factory, register, runs, snapshot, start_rig, truth

ODD_LOCALS = ("0.zero", "_svc.backup", "émile.zola", "ZED.UPPER", "zz", "a", "m", "李雷")


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 20 users and batches of 60: every shard process reads and stores several."""
    monkeypatch.setattr(full, "USER_PAGE_SIZE", 20)
    monkeypatch.setattr(full, "SIGN_IN_PAGE_SIZE", 20)
    monkeypatch.setattr(full, "FLUSH_USERS", 60)


def _rig(make_emulator: EmulatorFactory, tmp_path: Path, seed: int = 5) -> Rig:
    rig = start_rig(make_emulator, tmp_path, users=400, seed=seed, scenario="messy")
    for local in ODD_LOCALS:
        if rig.tenant.user(f"{local}@{rig.tenant.domain}") is None:
            upn = f"{local}@{rig.tenant.domain}"
            hire(rig.tenant, {"userPrincipalName": upn, "displayName": local})
    return rig


def _sync(engine: Engine, pk: int, rig: Rig, **options: object) -> SyncStatus:
    result = run_sync(engine, pk, rig.connection(), client_factory=client_factory(), **options)  # type: ignore[arg-type]
    return result.status


def _no_children() -> None:
    """No shard process outlives its sync (reaped, not orphaned)."""
    assert multiprocessing.active_children() == []


def _no_scratch(engine: Engine) -> None:
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database:
        assert list(Path(database).parent.glob("lw-shards-*")) == []


@pytest.mark.usefixtures("small_pages")
def test_process_shards_store_what_the_sequential_sync_stores(
    make_emulator: EmulatorFactory, tmp_path: Path, db: Engine
) -> None:
    rig = _rig(make_emulator, tmp_path)
    pk = register(db, rig.tenant)
    assert _sync(db, pk, rig) == SyncStatus.COMPLETED
    sequential = snapshot(db, pk)
    expected = truth(rig.tenant)
    assert (sequential.numbers, sequential.licences) == (expected.numbers, expected.licences)
    # Default split (first sharded sync), then the split of the stored users; 2 and 3 processes.
    for processes in (2, 3):
        assert _sync(db, pk, rig, shards=8, shard_processes=processes) == SyncStatus.COMPLETED
        sharded = snapshot(db, pk)
        assert sharded.dataset != sequential.dataset
        assert (sharded.numbers, sharded.licences) == (sequential.numbers, sequential.licences)
        last = runs(db, pk)[-1]
        assert (last.users_read, last.status) == (len(expected.users), SyncStatus.COMPLETED)
        assert last.pages_read >= len(expected.users) // 20
    _no_children()
    _no_scratch(db)


@pytest.mark.usefixtures("small_pages")
def test_a_graph_error_in_one_shard_process_fails_the_sync_and_keeps_the_last_data(
    make_emulator: EmulatorFactory, tmp_path: Path, db: Engine
) -> None:
    rig = _rig(make_emulator, tmp_path)
    pk = register(db, rig.tenant)
    assert _sync(db, pk, rig) == SyncStatus.COMPLETED
    before = snapshot(db, pk)
    # Users pages past the first few fail for good (past the retries and the small budget):
    # whichever shard process asks first fails the whole sync.
    rig.injector.configure("500@/v1.0/users#after=14")
    assert _sync(db, pk, rig, shards=8, shard_processes=2) == SyncStatus.FAILED
    failed = runs(db, pk)[-1]
    assert failed.status == SyncStatus.FAILED
    assert "500" in (failed.error_message or "") or failed.error_kind, failed.error_message
    assert snapshot(db, pk) == before
    _no_children()
    _no_scratch(db)
    rig.injector.configure("")
    assert _sync(db, pk, rig, shards=8, shard_processes=2) == SyncStatus.COMPLETED
    assert snapshot(db, pk).numbers == before.numbers


@pytest.mark.usefixtures("small_pages")
def test_a_killed_shard_process_fails_the_sync_and_keeps_the_last_data(
    make_emulator: EmulatorFactory, tmp_path: Path, db: Engine
) -> None:
    rig = _rig(make_emulator, tmp_path)
    pk = register(db, rig.tenant)
    assert _sync(db, pk, rig) == SyncStatus.COMPLETED
    before = snapshot(db, pk)
    # Pages of 2 s: a process needs ≥ 6 s to finish its shards, so even a parent that reads its
    # messages late (a loaded machine) kills one still reading, not one that has sent "done".
    rig.injector.configure("latency=2000@/v1.0/users")
    killed: list[int] = []

    def kill_one(progress: SyncProgress) -> None:
        children = multiprocessing.active_children()
        if progress.phase == "users" and progress.users_read and children and not killed:
            killed.append(children[0].pid or 0)
            os.kill(killed[0], signal.SIGKILL)

    status = _sync(db, pk, rig, shards=8, shard_processes=2, progress=kill_one)
    assert killed, "the read ended before a shard process could be killed"
    assert status == SyncStatus.FAILED
    assert "exited" in (runs(db, pk)[-1].error_message or "")
    assert snapshot(db, pk) == before
    _no_children()
    _no_scratch(db)


@pytest.mark.usefixtures("small_pages")
def test_sign_in_refused_mid_read_in_a_shard_process_reads_on_without_it(
    make_emulator: EmulatorFactory, tmp_path: Path, db: Engine
) -> None:
    rig = _rig(make_emulator, tmp_path)
    pk = register(db, rig.tenant)
    rig.injector.configure("signin-403@/v1.0/users#after=12")
    assert _sync(db, pk, rig, shards=8, shard_processes=2) == SyncStatus.COMPLETED
    stored, expected = snapshot(db, pk), truth(rig.tenant)
    assert (stored.numbers, stored.licences) == (expected.numbers, expected.licences)
    _no_children()


def test_process_count_is_one_per_core_at_most_one_per_shard() -> None:
    cores = os.cpu_count() or 1
    assert process_count(0, 8) == min(cores, 8)
    assert process_count(4, 2) == 2
    assert process_count(3, 1) == 1  # no shards, no processes
    assert process_count(1, 8) == 1


def _rows(users: list[tuple[str, str, str]], run: int, tenant: int, encoding: str) -> Batch:
    """Row tuples as a shard process builds them: (id, UPN, the one SKU held directly)."""
    items = [
        {"id": uid, "userPrincipalName": upn, "licenseAssignmentStates": [{"skuId": sku}]}
        for uid, upn, sku in users
    ]
    build = row_builder.builder_for(with_sign_in=False, encoding=encoding)  # type: ignore[arg-type]
    built: Batch = ([], [])
    build(items, run, tenant, set(), *built)
    return built


def test_a_user_two_shard_processes_read_is_stored_once_as_read_first(
    database_url: str, tmp_path: Path, db: Engine
) -> None:
    """A user renamed across two ranges during the read comes from two processes: stored once,
    with the licences of the copy stored first (as the single-process sync keeps the first)."""
    tenant = add_tenant(db)
    run = start_run(db, tenant)
    one, two, three = (f"0000000{n}-0000-4000-8000-000000000000" for n in (1, 2, 3))
    sku_a, sku_b = "11111111-0000-4000-8000-000000000000", "22222222-0000-4000-8000-000000000000"
    first = [(one, "ann@x", sku_a), (two, "bob@x", sku_a)]
    second = [(two, "zed.bob@x", sku_b), (three, "zoe@x", sku_b)]
    encoding = "sqlite" if db.dialect.name == "sqlite" else "python"
    batches = [_rows(first, run, tenant, encoding), _rows(second, run, tenant, encoding)]
    if db.dialect.name == "sqlite":
        paths = [tmp_path / "shard-0.sqlite", tmp_path / "shard-1.sqlite"]
        for path, batch in zip(paths, batches, strict=True):
            scratch = ScratchSink(str(path))
            scratch.append(*batch)
            scratch.close()
        with ScratchStaging(db, paths) as staging, staging.transaction() as connection:
            staging.run_id = run
            staging.publish(connection)
        assert staging.moved == 3
    else:
        for batch, expected in zip(batches, (2, 1), strict=True):
            sink = CopySink(database_url, run)
            assert sink.append(*batch) == expected  # the second shard's copy of bob is left out
            sink.close()
    with read_transaction(db) as connection:
        users = connection.execute(select(User.id, User.user_principal_name)).all()
        licences = connection.execute(select(UserLicense.user_id, UserLicense.sku_id)).all()
    assert sorted((str(u), n) for u, n in users) == [
        (one, "ann@x"),
        (two, "bob@x"),
        (three, "zoe@x"),
    ]
    assert sorted((str(u), str(s)) for u, s in licences) == [
        (one, sku_a), (two, sku_a), (three, sku_b),
    ]  # fmt: skip
