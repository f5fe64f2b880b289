"""Licence change history: exactly the changes made, from full and delta runs; the history query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from emulated_tenant import fast_client, register, start
from sqlalchemy import Engine, select, update

from emulator_fixtures import EmulatorFactory, connect
from licensewatch.emulator import mutations
from licensewatch.emulator.state import ASSIGNED_STATES, Tenant
from licensewatch.storage.database import session_scope, write_transaction
from licensewatch.storage.models import ChangeKind, LicenceChange, SyncKind, utcnow
from licensewatch.storage.queries import licence_changes
from licensewatch.sync.runner import Mode, run_sync

Change = tuple[str, str | None, str | None, str | None]  # (kind, upn, sku id, group id)


@dataclass
class Scenario:
    """Mutations made between two runs and the change history they must produce."""

    changes: set[Change]
    units: list[dict[str, Any]]  # expected units_changed details


def mutate(tenant: Tenant, taken: set[str] | None = None) -> Scenario:
    """Hire, delete, disable, enable, (un)assign directly and via a group, buy units."""
    taken = set() if taken is None else taken
    changes: set[Change] = set()

    def pick(condition: Any) -> Any:
        user = next(u for _, u in tenant.iter_users_from(0) if u.id not in taken and condition(u))
        taken.add(user.id)
        return user

    products = sorted(tenant.products.values(), key=lambda p: p.part_number)
    product = max(products, key=lambda p: mutations.free_units(tenant, p.sku_id))
    hired = mutations.hire(tenant, {"displayName": "Dana Delta"}, [product.sku_id])
    taken.add(hired.id)
    upn = hired.user_principal_name
    changes |= {("user_created", upn, None, None), ("licence_added", upn, product.sku_id, None)}

    victim = pick(lambda u: any(a.assigned_by_group for a in u.assignments))
    changes.add(("user_deleted", victim.user_principal_name, None, None))
    for a in victim.assignments:
        kind = "licence_removed" if a.state in ASSIGNED_STATES else "assignment_state_changed"
        changes.add((kind, victim.user_principal_name, a.sku_id, a.assigned_by_group))
    mutations.delete(tenant, victim.id)

    disabled = pick(lambda u: u.account_enabled)
    mutations.set_enabled(tenant, disabled.id, False)
    changes.add(("account_disabled", disabled.user_principal_name, None, None))
    enabled = pick(lambda u: not u.account_enabled)
    mutations.set_enabled(tenant, enabled.id, True)
    changes.add(("account_enabled", enabled.user_principal_name, None, None))

    gainer = pick(lambda u: product.sku_id not in {a.sku_id for a in u.assignments})
    mutations.assign(tenant, gainer.id, product.sku_id, force=True)
    changes.add(("licence_added", gainer.user_principal_name, product.sku_id, None))
    loser = pick(lambda u: any(a.assigned_by_group is None for a in u.assignments))
    lost = next(a.sku_id for a in loser.assignments if a.assigned_by_group is None)
    mutations.unassign(tenant, loser.id, lost)
    changes.add(("licence_removed", loser.user_principal_name, lost, None))

    group = next(g for g in tenant.groups.values() if g.assigned_licenses and g.member_ids)
    joiner = pick(lambda u: u.id not in group.member_ids)
    for made in mutations.add_member(tenant, group.id, joiner.id):
        # A group licence that failed (CountViolation) is not a licence gained.
        kind = "licence_added" if made.state in ASSIGNED_STATES else "assignment_state_changed"
        changes.add((kind, joiner.user_principal_name, made.sku_id, group.id))
    leaver = pick(lambda u: u.id in group.member_ids)
    for a in leaver.assignments:
        if a.assigned_by_group == group.id:
            kind = "licence_removed" if a.state in ASSIGNED_STATES else "assignment_state_changed"
            changes.add((kind, leaver.user_principal_name, a.sku_id, group.id))
    mutations.remove_member(tenant, group.id, leaver.id)

    bought = products[0]
    before = tenant.prepaid_units(bought.sku_id)
    subscription = mutations.find_subscription(tenant, bought.sku_id)
    mutations.set_units(tenant, subscription.id, subscription.total_licenses + 7)
    after = tenant.prepaid_units(bought.sku_id)
    units = [
        {
            "sku_part_number": bought.part_number,
            "units": name,
            "from": before[name],
            "to": after[name],
        }
        for name in ("enabled", "warning", "suspended", "lockedOut")
        if before[name] != after[name]
    ]
    changes |= {("units_changed", None, bought.sku_id, None) for _ in units}
    return Scenario(changes, units)


def recorded(engine: Engine, *run_ids: int) -> list[Change]:
    """The change rows of runs as (kind, upn, sku, group), duplicates kept."""
    with session_scope(engine, write=False) as session:
        rows = session.scalars(select(LicenceChange).where(LicenceChange.run_id.in_(run_ids)))
        return [(r.kind, r.user_principal_name, r.sku_id, r.assigned_by_group) for r in rows]


@pytest.mark.parametrize("mode", ["delta", "full"])
def test_history_lists_exactly_the_changes(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, mode: Mode
) -> None:
    emulator, _ = start(make_emulator, users=60, seed=7, cert_dir=tmp_path)
    tenant = next(iter(emulator.world.tenants.values()))
    pk = register(engine, tenant)
    connection = connect(emulator, tenant)
    baseline = run_sync(engine, pk, connection, client_factory=fast_client)
    assert baseline.ok, baseline.error_message
    assert baseline.changes == 0
    scenario = mutate(tenant)
    result = run_sync(engine, pk, connection, mode=mode, client_factory=fast_client)
    assert result.ok, result.error_message
    assert result.kind == SyncKind(mode)
    got = recorded(engine, result.run_id)
    assert sorted(got, key=repr) == sorted(scenario.changes, key=repr)
    assert result.changes == len(got)
    with session_scope(engine, write=False) as session:
        units = session.scalars(
            select(LicenceChange.detail).where(
                LicenceChange.run_id == result.run_id,
                LicenceChange.kind == ChangeKind.UNITS_CHANGED,
            )
        ).all()
        assert sorted(units, key=repr) == sorted(scenario.units, key=repr)
        assert scenario.units  # the scenario bought units
        history = licence_changes(session, tenant.domain)
    assert len(history) == len(got)
    assert {row.run_id for row in history} == {result.run_id}
    grouped = [row for row in history if row.assigned_by_group]
    assert grouped
    assert all(row.group_name for row in grouped)  # group ids resolved to names
    assert all(row.sku_part_number for row in history if row.sku_id)


def test_history_query_filters(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    emulator, _ = start(make_emulator, tenants=2, users=40, seed=2, cert_dir=tmp_path)
    tenants = list(emulator.world.tenants.values())
    pks = [register(engine, tenant) for tenant in tenants]
    for pk, tenant in zip(pks, tenants, strict=True):
        for mode in ("full", "delta"):
            if mode == "delta":
                mutate(tenant)
            result = run_sync(
                engine, pk, connect(emulator, tenant), mode=mode, client_factory=fast_client
            )
            assert result.ok, result.error_message
    first, second = (t.domain for t in tenants)
    with write_transaction(engine) as db:  # the first tenant's history is ten days old
        db.execute(
            update(LicenceChange)
            .where(LicenceChange.tenant_id == pks[0])
            .values(occurred_at=utcnow() - timedelta(days=10))
        )
    with session_scope(engine, write=False) as session:
        everything = licence_changes(session)
        assert {row.tenant for row in everything} == {first, second}
        assert [r.occurred_at for r in everything] == sorted(
            (r.occurred_at for r in everything), reverse=True
        )
        mine = licence_changes(session, tenant_name=second)
        assert mine
        assert {row.tenant for row in mine} == {second}
        recent = licence_changes(session, since=utcnow() - timedelta(days=7))
        assert {row.tenant for row in recent} == {second}
        assert len(recent) == len(mine)
        someone = next(row for row in mine if row.kind == "licence_removed")
        assert someone.user_principal_name is not None
        theirs = licence_changes(session, user_upn=someone.user_principal_name.upper())
        assert theirs
        assert {row.user_principal_name for row in theirs} == {someone.user_principal_name}
        disabled = licence_changes(session, kind="account_disabled")
        assert len(disabled) == 2
        assert {row.kind for row in disabled} == {"account_disabled"}
        assert len(licence_changes(session, limit=3)) == 3
        assert licence_changes(session, tenant_name="nobody") == []
