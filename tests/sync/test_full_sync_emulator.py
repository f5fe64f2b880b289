"""Full sync against the emulator over TLS: stored data equals the emulated tenant exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulated_tenant import (
    assignment_errors,
    expected_balance,
    expected_licences,
    expected_skus,
    expected_users,
    fast_client,
    register,
    start,
    stored,
)
from sqlalchemy import Engine, select

from emulator_fixtures import EmulatorFactory, connect
from licensewatch.emulator.truth import ground_truth
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Group, Sku, SyncStatus
from licensewatch.storage.queries import balance_rows
from licensewatch.sync.runner import run_sync


@pytest.mark.parametrize(
    ("scenario", "seed"),
    [
        ("messy", 1),
        ("messy", 2),
        ("messy", 3),
        ("small-office", 4),
        ("small-office", 5),
        ("enterprise", 6),
        ("enterprise", 7),
        ("msp", 8),
        ("msp", 9),
        ("lifecycle", 10),
    ],
)
def test_full_sync_stores_exactly_the_tenant(
    make_emulator: EmulatorFactory, engine: Engine, scenario: str, seed: int, tmp_path: Path
) -> None:
    emulator, _ = start(
        make_emulator, tenants=2, users=60, seed=seed, scenario=scenario, cert_dir=tmp_path
    )
    for tenant in emulator.world.tenants.values():
        tenant_pk = register(engine, tenant)
        result = run_sync(engine, tenant_pk, connect(emulator, tenant), client_factory=fast_client)
        assert result.status == SyncStatus.COMPLETED, result.error_message
        got = stored(engine, tenant_pk)
        assert got["dataset"] == result.run_id
        assert got["organization"] == tenant.display_name
        assert got["resolved"] == tenant.tenant_id
        assert got["users"] == expected_users(tenant, tenant_pk, bool(got["sign_in_data"]))
        assert got["licences"] == expected_licences(tenant)
        assert got["skus"] == expected_skus(tenant)
        assert result.users_read == tenant.user_count()
        with session_scope(engine, write=False) as session:
            balance = {row.sku_id: row.to_dict() for row in balance_rows(session, tenant.domain)}
            mine = select(Sku.sku_id, Sku.assignment_errors).where(Sku.tenant_id == tenant_pk)
            errors = {sku: n for sku, n in session.execute(mine)}
            groups = set(session.scalars(select(Group.id).where(Group.tenant_id == tenant_pk)))
        assert balance == expected_balance(tenant)
        assert errors == assignment_errors(tenant)
        assert groups == {g["id"] for g in ground_truth(tenant)["groups"]}
