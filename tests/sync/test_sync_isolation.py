"""Readers during a sync see the old or the new complete dataset, never a mix."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from emulated_tenant import fast_client, register
from emulated_tenant import start as start_emulator
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from emulator_fixtures import EmulatorFactory, connect
from licensewatch.storage.database import read_transaction
from licensewatch.storage.models import Tenant, User
from licensewatch.storage.queries import balance_rows
from licensewatch.sync import full
from licensewatch.sync.runner import run_sync

Observation = tuple[frozenset[str], tuple[tuple[str, int, int], ...]]


def _observe(engine: Engine, tenant_pk: int) -> Observation:
    """User ids and per-SKU assignment counts, read in one snapshot."""
    with read_transaction(engine) as connection, Session(bind=connection) as session:
        current = select(Tenant.dataset_id).where(Tenant.id == tenant_pk).scalar_subquery()
        ids = frozenset(session.scalars(select(User.id).where(User.dataset_id == current)))
        skus = tuple(
            (row.sku_id, row.assigned_directly, row.assigned_via_groups)
            for row in balance_rows(session)
        )
        return ids, skus


def test_concurrent_reader_sees_whole_datasets(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(full, "USER_PAGE_SIZE", 10)
    emulator, injector = start_emulator(make_emulator, users=80, seed=9, cert_dir=tmp_path)
    tenant = next(iter(emulator.world.tenants.values()))
    tenant_pk = register(engine, tenant)
    connection = connect(emulator, tenant)
    assert run_sync(engine, tenant_pk, connection, client_factory=fast_client).ok
    old = _observe(engine, tenant_pk)

    users = [user for _, user in tenant.iter_users_from(0)]
    for user in users[:7]:
        tenant.delete_user(user.id)
    for user in users[7:30]:
        for assignment in list(user.assignments):
            tenant.unassign(user.id, assignment.sku_id, assignment.assigned_by_group)
    injector.configure("latency=40@/v1.0/users")

    seen: list[Observation] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            seen.append(_observe(engine, tenant_pk))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        result = run_sync(engine, tenant_pk, connection, client_factory=fast_client)
    finally:
        done.set()
        thread.join()
    assert result.ok, result.error_message
    new = _observe(engine, tenant_pk)
    assert new != old
    assert len(seen) > 3
    assert set(seen) <= {old, new}
