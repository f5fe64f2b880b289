"""Change history of assignment states, delta without licenseAssignmentStates, @removed reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from emulated_tenant import (
    assignment_errors,
    expected_licences,
    expected_skus,
    fast_client,
    register,
    start,
    stored,
)
from sqlalchemy import Engine, select

from emulator_fixtures import EmulatorFactory, connect
from licensewatch.emulator import assignment_states, mutations
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import Tenant, User
from licensewatch.emulator.truth import ground_truth
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import LicenceChange, Sku, SyncKind, SyncRun
from licensewatch.storage.models import Tenant as TenantRow
from licensewatch.sync.runner import Mode, SyncResult, run_sync

Row = tuple[str, str | None, str | None, str | None, Any]  # kind, upn, sku, group, detail


def _sync(emulator: RunningEmulator, engine: Engine, pk: int, tenant: Tenant, mode: Mode) -> Any:
    result = run_sync(engine, pk, connect(emulator, tenant), mode=mode, client_factory=fast_client)
    assert result.ok, result.error_message
    assert result.kind == SyncKind(mode)
    return result


def _rows(engine: Engine, result: SyncResult) -> set[Row]:
    with session_scope(engine, write=False) as session:
        found = session.scalars(select(LicenceChange).where(LicenceChange.run_id == result.run_id))
        return {
            (c.kind, c.user_principal_name, c.sku_id, c.assigned_by_group, _frozen(c.detail))
            for c in found
        }


def _frozen(detail: Any) -> Any:
    return tuple(sorted(detail.items())) if isinstance(detail, dict) else detail


def _state(was: str | None, now: str | None, error: str | None = None) -> Any:
    return _frozen({"from": was, "to": now, "error": error})


def assert_matches(engine: Engine, pk: int, tenant: Tenant) -> None:
    """Licences (group ids, states, errors) and SKU counts as the emulated tenant has them."""
    got = stored(engine, pk)
    assert got["licences"] == expected_licences(tenant)
    assert got["skus"] == expected_skus(tenant)
    with session_scope(engine, write=False) as session:
        errors = {s.sku_id: s.assignment_errors for s in session.scalars(select(Sku))}
    assert errors == assignment_errors(tenant)


def _users(tenant: Tenant) -> list[User]:
    return [u for _, u in tenant.iter_users_from(0)]


def _direct_active(tenant: Tenant, taken: set[str]) -> tuple[User, str]:
    for user in _users(tenant):
        for a in user.assignments:
            if user.id not in taken and a.assigned_by_group is None and a.state == "Active":
                taken.add(user.id)
                return user, a.sku_id
    raise AssertionError("no user with a direct active licence left")


@pytest.mark.parametrize("mode", ["full", "delta"])
def test_history_records_assignment_states(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, mode: Mode
) -> None:
    emulator, _ = start(make_emulator, users=60, seed=7, cert_dir=tmp_path)
    tenant = next(iter(emulator.world.tenants.values()))
    pk = register(engine, tenant)
    _sync(emulator, engine, pk, tenant, "full")
    taken: set[str] = set()
    expected: set[Row] = set()

    # A group licence that could not be applied (no seat left) is not a licence gained.
    group = next(g for g in tenant.groups.values() if g.assigned_licenses)
    joiner = next(u for u in _users(tenant) if u.id not in group.member_ids and not u.assignments)
    taken.add(joiner.id)
    group_sku = group.assigned_licenses[0][0]
    assignment_states.set_state(
        tenant, joiner.id, group_sku, "Error", "CountViolation", group=group.id
    )
    expected.add(
        (
            "assignment_state_changed",
            joiner.user_principal_name,
            group_sku,
            group.id,
            _state(None, "Error", "CountViolation"),
        )
    )
    # Active → Error (the user really lost the product) and Active → Disabled: lost.
    for state, error in (("Error", "DependencyViolation"), ("Disabled", "None")):
        user, sku = _direct_active(tenant, taken)
        assignment_states.set_state(tenant, user.id, sku, state, error)
        code = None if error == "None" else error
        detail = _state("Active", state, code)
        expected.add(("licence_removed", user.user_principal_name, sku, None, detail))
    # New assignments failing for every other reason Microsoft names: state changes, no gain.
    sku_ids = sorted(tenant.products)
    for index, error in enumerate(("ProhibitedInUsageLocationViolation", "Other")):
        user = next(u for u in _users(tenant) if u.id not in taken and not u.assignments)
        taken.add(user.id)
        sku = sku_ids[index]
        assignment_states.set_state(tenant, user.id, sku, "Error", error)
        detail = _state(None, "Error", error)
        expected.add(("assignment_state_changed", user.user_principal_name, sku, None, detail))
    # A failed assignment that now works: gained.
    fixed = next(
        u
        for u in _users(tenant)
        if u.id not in taken and any(a.state == "Error" for a in u.assignments)
    )
    taken.add(fixed.id)
    broken = next(a for a in fixed.assignments if a.state == "Error")
    assignment_states.set_state(
        tenant, fixed.id, broken.sku_id, "Active", group=broken.assigned_by_group
    )
    detail = _state("Error", "Active")
    expected.add(
        (
            "licence_added",
            fixed.user_principal_name,
            broken.sku_id,
            broken.assigned_by_group,
            detail,
        )
    )
    # Units that move to LockedOut are logged with the other unit changes.
    subscription = next(s for s in tenant.subscriptions if s.status == "Enabled")
    part = tenant.products[subscription.sku_id].part_number
    before = tenant.prepaid_units(subscription.sku_id)
    mutations.set_subscription_status(tenant, subscription.id, "LockedOut")
    after = tenant.prepaid_units(subscription.sku_id)
    for name in ("enabled", "lockedOut"):
        units = {"sku_part_number": part, "units": name, "from": before[name], "to": after[name]}
        expected.add(("units_changed", None, subscription.sku_id, None, _frozen(units)))

    result = _sync(emulator, engine, pk, tenant, mode)
    assert _rows(engine, result) == expected
    # Disabled is not an assignment error: the SKU counts agree with the emulator's truth.
    truth = {s["sku_id"]: s for s in ground_truth(tenant)["skus"]}
    assert any(s["disabled_assignments"] for s in truth.values())
    with session_scope(engine, write=False) as session:
        stored = {s.sku_id: s.assignment_errors for s in session.scalars(select(Sku))}
    assert stored == {sku: sum(s["errors"].values()) for sku, s in truth.items()}


def test_delta_without_licence_states_keeps_group_licences(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    options = EmulatorOptions(delta_license_states=False)
    emulator, _ = start(make_emulator, users=60, seed=7, cert_dir=tmp_path, options=options)
    tenant = next(iter(emulator.world.tenants.values()))
    pk = register(engine, tenant)
    _sync(emulator, engine, pk, tenant, "full")
    grouped = [u for u in _users(tenant) if any(a.assigned_by_group for a in u.assignments)]
    assert len(grouped) >= 2
    # Changes that have nothing to do with licences: delta reports these users without states.
    for user in grouped[:20]:
        mutations.update(tenant, user.id, {"department": "Delta Ops"})
    loser, sku = _direct_active(tenant, {u.id for u in grouped[:20]})
    mutations.unassign(tenant, loser.id, sku)

    result = _sync(emulator, engine, pk, tenant, "delta")
    # Exactly the real change: no removed/added pairs from group licences read as direct ones.
    assert _rows(engine, result) == {
        ("licence_removed", loser.user_principal_name, sku, None, _state("Active", None))
    }
    assert_matches(engine, pk, tenant)  # group ids, states and errors as the tenant has them


def test_unreadable_licence_states_keep_the_stored_ones_and_ask_for_a_full_sync(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    options = EmulatorOptions(delta_license_states=False)
    emulator, injector = start(make_emulator, users=40, seed=3, cert_dir=tmp_path, options=options)
    tenant = next(iter(emulator.world.tenants.values()))
    pk = register(engine, tenant)
    _sync(emulator, engine, pk, tenant, "full")
    grouped = next(u for u in _users(tenant) if any(a.assigned_by_group for a in u.assignments))
    mutations.update(tenant, grouped.id, {"jobTitle": "Reconciler"})
    # The delta page is the first /v1.0/users request; the read by id (and its retries) fail.
    injector.configure("503@/v1.0/users#nth=2#10")
    result = _sync(emulator, engine, pk, tenant, "delta")
    assert _rows(engine, result) == set()  # the stored group licences were kept as they were
    with session_scope(engine, write=False) as session:
        row = session.get(TenantRow, pk)
        assert row is not None
        assert row.delta_link is None  # the next run is a full reconcile
        run = session.get(SyncRun, result.run_id)
        assert run is not None
        assert run.error_kind == "licence_states_unread"
    injector.configure("")
    again = run_sync(engine, pk, connect(emulator, tenant), client_factory=fast_client)
    assert again.ok, again.error_message
    assert again.kind == SyncKind.FULL
    assert_matches(engine, pk, tenant)


@pytest.mark.parametrize("mode", ["full", "delta"])
def test_delta_tells_soft_from_hard_deletes_and_restores(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, mode: Mode
) -> None:
    emulator, _ = start(make_emulator, users=30, seed=2, cert_dir=tmp_path)
    tenant = next(iter(emulator.world.tenants.values()))
    pk = register(engine, tenant)
    _sync(emulator, engine, pk, tenant, "full")
    soft = mutations.hire(tenant, {"displayName": "Sam Soft"})
    hard = mutations.hire(tenant, {"displayName": "Hal Hard"})
    _sync(emulator, engine, pk, tenant, "delta")
    mutations.delete(tenant, soft.id, soft=True)
    mutations.delete(tenant, hard.id)
    result = _sync(emulator, engine, pk, tenant, "delta")
    assert _rows(engine, result) == {
        ("user_soft_deleted", soft.user_principal_name, None, None, _frozen({"reason": "changed"})),
        ("user_deleted", hard.user_principal_name, None, None, _frozen({"reason": "deleted"})),
    }
    mutations.restore(tenant, soft.id)
    back = _sync(emulator, engine, pk, tenant, mode)
    assert _rows(engine, back) == {("user_restored", soft.user_principal_name, None, None, None)}
