"""`tenants.user_count` equals count(*) of the current dataset after full, delta and failed syncs.

Both engines, the emulator over TLS; the truth is the emulated tenant's own number of users.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from emulated_tenant import fast_client, register, start
from sqlalchemy import Engine, func, insert, inspect, select

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory, connect
from licensewatch.emulator import mutations
from licensewatch.emulator.graph import delta as emulated_delta
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant
from licensewatch.storage.database import session_scope, write_transaction
from licensewatch.storage.migrate import alembic_config, upgrade
from licensewatch.storage.models import SyncKind, SyncRun, SyncStatus, User
from licensewatch.storage.models import Tenant as TenantRow
from licensewatch.sync import full
from licensewatch.sync.runner import Mode, SyncResult, run_sync


def counts(engine: Engine, tenant_pk: int) -> tuple[int, int]:
    """(stored user_count, count(*) of the users of the tenant's current dataset)."""
    with session_scope(engine, write=False) as session:
        row = session.get(TenantRow, tenant_pk)
        assert row is not None
        counted = session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.dataset_id == row.dataset_id, User.tenant_id == tenant_pk)
        )
        return row.user_count, int(counted or 0)


def _sync(
    emulator: RunningEmulator, engine: Engine, pk: int, tenant: Tenant, mode: Mode = "full"
) -> SyncResult:
    connection = connect(emulator, tenant)
    result = run_sync(engine, pk, connection, mode=mode, client_factory=fast_client)
    assert result.ok, result.error_message
    return result


def _hire(tenant: Tenant, name: str) -> str:
    return mutations.hire(tenant, {"displayName": name}).id


def _someone(tenant: Tenant, taken: set[str]) -> str:
    uid = next(u.id for _, u in tenant.iter_users_from(0) if u.id not in taken)
    taken.add(uid)
    return uid


def test_full_sync_stores_the_count(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    emulator, _ = start(make_emulator, users=45, seed=11, cert_dir=tmp_path)
    tenant = next(iter(emulator.world.tenants.values()))
    pk = register(engine, tenant)
    assert counts(engine, pk) == (0, 0)  # registered, never synced
    _sync(emulator, engine, pk, tenant)
    assert counts(engine, pk) == (tenant.user_count(),) * 2
    for uid in [_hire(tenant, "Fay Full"), _hire(tenant, "Gil Full")]:
        assert uid
    mutations.delete(tenant, next(u.id for _, u in tenant.iter_users_from(0)))
    second = _sync(emulator, engine, pk, tenant, mode="full")
    assert second.kind == SyncKind.FULL
    assert counts(engine, pk) == (tenant.user_count(),) * 2 == (46, 46)


def test_delta_moves_the_count_by_the_users_it_adds_and_removes(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fails if a delta leaves the count alone: every round changes the number of users."""
    monkeypatch.setattr(emulated_delta, "PAGE_SIZE", 3)  # changes spread over several pages
    emulator, _ = start(make_emulator, users=50, seed=12, cert_dir=tmp_path)
    tenant = next(iter(emulator.world.tenants.values()))
    pk = register(engine, tenant)
    _sync(emulator, engine, pk, tenant)
    assert counts(engine, pk) == (50, 50)
    taken: set[str] = set()

    # Round 1: five hires, two deletions (one soft), a user hired and deleted within the round
    # (never stored), one user changed twice (no change in number).
    hired = [_hire(tenant, f"Hana Delta{n}") for n in range(5)]
    taken.update(hired)
    mutations.delete(tenant, _someone(tenant, taken))
    soft = _someone(tenant, taken)
    mutations.delete(tenant, soft, soft=True)
    mutations.delete(tenant, _hire(tenant, "Brief Visitor"))
    twice = _someone(tenant, taken)
    mutations.set_enabled(tenant, twice, False)
    mutations.set_enabled(tenant, twice, True)
    result = _sync(emulator, engine, pk, tenant, mode="delta")
    assert result.kind == SyncKind.DELTA
    assert counts(engine, pk) == (tenant.user_count(),) * 2 == (53, 53)

    # Round 2: removals only, one of them a user hired by round 1.
    for uid in (
        hired[0],
        _someone(tenant, taken),
        _someone(tenant, taken),
        _someone(tenant, taken),
    ):
        mutations.delete(tenant, uid)
    assert _sync(emulator, engine, pk, tenant, mode="delta").kind == SyncKind.DELTA
    assert counts(engine, pk) == (tenant.user_count(),) * 2 == (49, 49)

    # Round 3: the soft-deleted user comes back; nothing else.
    mutations.restore(tenant, soft)
    assert _sync(emulator, engine, pk, tenant, mode="delta").kind == SyncKind.DELTA
    assert counts(engine, pk) == (tenant.user_count(),) * 2 == (50, 50)

    # Round 4: nothing changed.
    assert _sync(emulator, engine, pk, tenant, mode="delta").users_read == 0
    assert counts(engine, pk) == (50, 50)


def test_failed_syncs_leave_the_count_of_the_last_good_data(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(full, "USER_PAGE_SIZE", 10)  # a full read of several pages
    monkeypatch.setattr(emulated_delta, "PAGE_SIZE", 3)
    emulator, injector = start(make_emulator, users=60, seed=13, cert_dir=tmp_path)
    tenant = next(iter(emulator.world.tenants.values()))
    pk = register(engine, tenant)
    _sync(emulator, engine, pk, tenant)
    assert counts(engine, pk) == (60, 60)
    for n in range(4):
        _hire(tenant, f"Ivo Pending{n}")
    mutations.delete(tenant, next(u.id for _, u in tenant.iter_users_from(0)))

    injector.configure("503@/v1.0/users/delta#nth=2")  # the first page applies, then it fails
    failed = run_sync(
        engine, pk, connect(emulator, tenant), mode="delta", client_factory=fast_client
    )
    assert (failed.status, failed.kind, failed.pages_read) == (SyncStatus.FAILED, "delta", 1)
    assert counts(engine, pk) == (60, 60)

    injector.configure("503@/v1.0/users#nth=3")  # a full read that fails after two pages
    failed = run_sync(
        engine, pk, connect(emulator, tenant), mode="full", client_factory=fast_client
    )
    assert (failed.status, failed.kind) == (SyncStatus.FAILED, "full")
    assert failed.pages_read >= 1  # it wrote some of the new dataset before failing
    assert counts(engine, pk) == (60, 60)

    injector.configure("")
    assert _sync(emulator, engine, pk, tenant, mode="delta").kind == SyncKind.DELTA
    assert counts(engine, pk) == (tenant.user_count(),) * 2 == (63, 63)


def test_migration_backfills_the_count_from_the_data(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    """0022 on a database of 0021: synced, never synced, and rows of a dataset nobody points at."""
    emulator, _ = start(make_emulator, users=40, seed=14, cert_dir=tmp_path)
    tenant = next(iter(emulator.world.tenants.values()))
    pk = register(engine, tenant)
    idle = add_tenant(engine, "idle.example")
    _sync(emulator, engine, pk, tenant)
    mutations.delete(tenant, _hire(tenant, "Jo Gone"))
    mutations.delete(tenant, next(u.id for _, u in tenant.iter_users_from(0)))
    _sync(emulator, engine, pk, tenant, mode="delta")
    with engine.connect() as connection:
        from alembic import command

        command.downgrade(alembic_config(connection), "0021")
        connection.commit()
    assert "user_count" not in {column["name"] for column in inspect(engine).get_columns("tenants")}
    with write_transaction(engine) as db:  # a killed run's rows: not the current dataset
        stray = db.execute(
            insert(SyncRun)
            .values(tenant_id=pk, kind="full", status=SyncStatus.FAILED)
            .returning(SyncRun.id)
        ).scalar_one()
        db.execute(
            insert(User),
            [{"dataset_id": stray, "id": f"00000000-0000-4000-8000-{n:012d}", "tenant_id": pk}
             for n in range(7)],
        )  # fmt: skip
    upgrade(engine)
    assert counts(engine, pk) == (tenant.user_count(),) * 2 == (39, 39)
    assert counts(engine, idle) == (0, 0)
