"""Delta sync against the emulator over TLS: in-place changes, 410 fallback, failure isolation."""

from __future__ import annotations

import ssl
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
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
from test_change_history import Scenario, mutate, recorded

from emulator_fixtures import EmulatorFactory, connect
from licensewatch.domain.schedule import SchedulePolicy
from licensewatch.emulator import mutations
from licensewatch.emulator.graph import delta as emulated_delta
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import (
    Sku,
    SkuSnapshot,
    SyncKind,
    SyncRun,
    SyncStatus,
)
from licensewatch.storage.models import Tenant as TenantRow
from licensewatch.storage.queries import balance_rows
from licensewatch.sync import full
from licensewatch.sync.runner import SyncResult, run_sync
from licensewatch.sync.work import SyncProgress


def assert_matches(engine: Engine, tenant_pk: int, tenant: Tenant) -> dict[str, Any]:
    """The stored tenant equals the emulated one: users, licences, SKU counts, balance."""
    got = stored(engine, tenant_pk)
    assert got["users"] == expected_users(tenant, tenant_pk, bool(got["sign_in_data"]))
    assert got["user_count"] == len(got["users"]) == tenant.user_count()
    assert got["licences"] == expected_licences(tenant)
    assert got["skus"] == expected_skus(tenant)
    with session_scope(engine, write=False) as session:
        balance = {row.sku_id: row.to_dict() for row in balance_rows(session, tenant.domain)}
        mine = select(Sku.sku_id, Sku.assignment_errors).where(Sku.tenant_id == tenant_pk)
        errors = {sku: n for sku, n in session.execute(mine)}
        assert session.scalar(select(TenantRow.delta_link).where(TenantRow.id == tenant_pk))
    assert balance == expected_balance(tenant)
    assert errors == assignment_errors(tenant)
    return got


def _sync(
    emulator: RunningEmulator, engine: Engine, pk: int, tenant: Tenant, **kw: Any
) -> SyncResult:
    result = run_sync(engine, pk, connect(emulator, tenant), client_factory=fast_client, **kw)
    assert result.ok, result.error_message
    return result


def _first(make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, **kw: Any) -> Any:
    emulator, injector = start(make_emulator, users=60, seed=3, cert_dir=tmp_path, **kw)
    tenant = next(iter(emulator.world.tenants.values()))
    pk = register(engine, tenant)
    first = _sync(emulator, engine, pk, tenant)
    assert first.kind == SyncKind.FULL
    assert recorded(engine, first.run_id) == []  # the first sync is the baseline
    return emulator, injector, tenant, pk, first


def test_delta_run_applies_changes_in_place(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    emulator, _, tenant, pk, first = _first(make_emulator, engine, tmp_path)
    scenario = mutate(tenant)
    result = _sync(emulator, engine, pk, tenant, mode="delta")
    assert (result.kind, result.note) == (SyncKind.DELTA, None)
    got = assert_matches(engine, pk, tenant)
    assert got["dataset"] == first.run_id  # changed in place: no new dataset
    assert result.users_read == len({c[1] for c in scenario.changes if c[1]})
    assert sorted(recorded(engine, result.run_id), key=repr) == sorted(scenario.changes, key=repr)
    with session_scope(engine, write=False) as session:
        run = session.get(SyncRun, result.run_id)
        assert run is not None
        assert (run.kind, run.status, run.error_kind) == ("delta", "COMPLETED", None)
        snapshots = session.scalars(select(SkuSnapshot).where(SkuSnapshot.run_id == run.id))
        assert {s.sku_id for s in snapshots} == set(tenant.products)

    again = _sync(emulator, engine, pk, tenant, mode="auto")  # nothing changed since
    assert (again.kind, again.users_read, again.changes) == (SyncKind.DELTA, 0, 0)
    assert_matches(engine, pk, tenant)


def test_auto_runs_full_when_the_reconcile_is_due(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    emulator, _, tenant, pk, _ = _first(make_emulator, engine, tmp_path)
    mutate(tenant)
    due = SchedulePolicy(full_reconcile_every=timedelta(0))
    result = _sync(emulator, engine, pk, tenant, mode="auto", policy=due)
    assert result.kind == SyncKind.FULL
    assert assert_matches(engine, pk, tenant)["dataset"] == result.run_id


def test_sign_in_activity_survives_delta_runs(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    emulator, _ = start(make_emulator, users=40, seed=5, cert_dir=tmp_path)
    tenant = next(iter(emulator.world.tenants.values()))
    tenant.has_premium = True
    for app in tenant.apps.values():
        app.roles.add("AuditLog.Read.All")
    pk = register(engine, tenant)
    assert _sync(emulator, engine, pk, tenant).sign_in_data is True
    mutate(tenant)
    # A signed-in user changes in a way delta reports; delta cannot select signInActivity.
    active = next(u for _, u in tenant.iter_users_from(0) if u.sign_in and u.sign_in.last_sign_in)
    mutations.update(tenant, active.id, {"department": "Delta Ops"})
    assert _sync(emulator, engine, pk, tenant, mode="delta").kind == SyncKind.DELTA
    got = assert_matches(engine, pk, tenant)
    assert got["sign_in_data"] is True


def test_changes_during_a_full_read_are_replayed_once(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(full, "USER_PAGE_SIZE", 10)
    emulator, _, tenant, pk, _ = _first(make_emulator, engine, tmp_path)
    people = [u for _, u in tenant.iter_users_from(0)]
    # Users already read (first page) and users not read yet change while the full read runs.
    in_flight = {u.id for u in people[20:40]}  # pages 3-4 may be on the wire: leave them be
    scenarios: list[Scenario] = []

    def midway(event: SyncProgress) -> None:
        if event.phase == "users" and event.pages_read == 2 and not scenarios:
            scenarios.append(mutate(tenant, taken=set(in_flight)))

    second = run_sync(
        engine, pk, connect(emulator, tenant), client_factory=fast_client, progress=midway
    )
    assert second.ok, second.error_message
    delta = _sync(emulator, engine, pk, tenant, mode="auto")
    assert delta.kind == SyncKind.DELTA
    assert_matches(engine, pk, tenant)
    # Each change is recorded exactly once: by the full diff or by the delta that replays it.
    assert recorded(engine, second.run_id)
    assert recorded(engine, delta.run_id)
    assert sorted(recorded(engine, second.run_id, delta.run_id), key=repr) == sorted(
        scenarios[0].changes, key=repr
    )


def _control(emulator: RunningEmulator, tenant: Tenant, op: str) -> dict[str, Any]:
    url = f"{emulator.base_url}/_emulator/tenants/{tenant.tenant_id}/mutations"
    trust = ssl.create_default_context(cafile=str(emulator.ca_bundle))
    with httpx.Client(verify=trust) as client:
        response = client.post(url, json={"op": op})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_expired_delta_token_falls_back_to_a_full_resync(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    emulator, _, tenant, pk, first = _first(make_emulator, engine, tmp_path)
    scenario = mutate(tenant)
    _control(emulator, tenant, "expire_delta_tokens")
    result = _sync(emulator, engine, pk, tenant, mode="auto")
    assert (result.kind, result.note) == (SyncKind.FULL, "delta_expired")
    got = assert_matches(engine, pk, tenant)
    assert got["dataset"] == result.run_id != first.run_id
    assert sorted(recorded(engine, result.run_id), key=repr) == sorted(scenario.changes, key=repr)
    with session_scope(engine, write=False) as session:
        run = session.get(SyncRun, result.run_id)
        assert run is not None
        assert (run.kind, run.status, run.error_kind) == ("full", "COMPLETED", "delta_expired")
        assert run.error_message is not None
        assert "410" in run.error_message
    after = _sync(emulator, engine, pk, tenant, mode="auto")  # the new deltaLink works
    assert (after.kind, after.changes) == (SyncKind.DELTA, 0)


def test_fault_mid_delta_changes_nothing(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulated_delta, "PAGE_SIZE", 3)  # several delta pages
    emulator, injector, tenant, pk, _ = _first(make_emulator, engine, tmp_path)
    scenario = mutate(tenant)
    before = stored(engine, pk)
    with session_scope(engine, write=False) as session:
        link = session.execute(
            select(TenantRow.delta_link, TenantRow.delta_link_at).where(TenantRow.id == pk)
        ).one()
    injector.configure("503@/v1.0/users/delta#nth=2")  # the first page applies, the second fails
    failed = run_sync(
        engine, pk, connect(emulator, tenant), mode="delta", client_factory=fast_client
    )
    assert failed.status == SyncStatus.FAILED
    assert (failed.kind, failed.pages_read) == (SyncKind.DELTA, 1)
    assert failed.error_kind is not None
    assert failed.error_kind.startswith("GraphUnavailableError")
    assert stored(engine, pk) == before
    assert recorded(engine, failed.run_id) == []
    with session_scope(engine, write=False) as session:
        now = session.execute(
            select(TenantRow.delta_link, TenantRow.delta_link_at).where(TenantRow.id == pk)
        ).one()
        assert tuple(now) == tuple(link)
        run = session.get(SyncRun, failed.run_id)
        assert run is not None
        assert (run.kind, run.status) == ("delta", "FAILED")
        assert not session.scalars(select(SkuSnapshot).where(SkuSnapshot.run_id == run.id)).all()

    injector.configure("")
    retry = _sync(emulator, engine, pk, tenant, mode="delta")
    assert retry.kind == SyncKind.DELTA
    assert_matches(engine, pk, tenant)
    assert sorted(recorded(engine, retry.run_id), key=repr) == sorted(scenario.changes, key=repr)
