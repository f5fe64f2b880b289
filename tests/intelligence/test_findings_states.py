"""Findings over real syncs: sign-in sentinels mean "never", overlaps and disabled plans/states."""

from __future__ import annotations

from pathlib import Path

from intelligence_world import contained, sync, users
from sqlalchemy import Engine, select

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory, connect
from licensewatch.emulator import assignment_states, mutations
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import ASSIGNED_STATES, Tenant, User
from licensewatch.emulator.truth import ground_truth
from licensewatch.graph.client import GraphClient
from licensewatch.intelligence.findings import Finding, FindingRule, compute_findings
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import User as UserRow
from licensewatch.storage.models import utcnow


def _found(engine: Engine, pk: int) -> dict[FindingRule, Finding]:
    return {f.rule: f for f in compute_findings(engine, pk, now=utcnow())}


def _start(
    make_emulator: EmulatorFactory, tmp_path: Path, options: EmulatorOptions | None = None
) -> tuple[RunningEmulator, Tenant]:
    world = build_world(tenants=1, users=60, seed=1, scenario="messy", cert_dir=tmp_path)
    tenant = next(iter(world.tenants.values()))
    for app in tenant.apps.values():
        app.roles.add("AuditLog.Read.All")
    return make_emulator(world, options=options), tenant


def _never(user: User) -> bool:
    s = user.sign_in
    return s is None or not any(
        (s.last_sign_in, s.last_non_interactive_sign_in, s.last_successful_sign_in)
    )


def test_sign_in_sentinels_are_never_not_inactive(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    emulator, tenant = _start(make_emulator, tmp_path, EmulatorOptions(sign_in_sentinels=True))
    # What the product reads really carries Microsoft's sentinels.
    with GraphClient(connect(emulator, tenant)) as client:
        body = client.get_json("/users", {"$select": "id,signInActivity", "$top": 500})
    served = [u["signInActivity"] for u in body["value"]]
    assert any(s["lastNonInteractiveSignInDateTime"] == "0001-01-01T00:00:00Z" for s in served)
    assert any(s["lastSignInDateTime"] == "" for s in served)
    pk = add_tenant(engine, tenant.domain, tenant.tenant_id)
    assert sync(engine, emulator, tenant, pk).sign_in_data is True

    with session_scope(engine, write=False) as session:
        columns = (
            UserRow.last_sign_in_at,
            UserRow.last_non_interactive_sign_in_at,
            UserRow.last_successful_sign_in_at,
        )
        stored = [v for row in session.execute(select(*columns)) for v in row if v is not None]
    assert stored
    assert min(v.year for v in stored) > 1  # pages and exports never show year 0001
    found = _found(engine, pk)
    never = {
        u.user_principal_name
        for u in users(tenant)
        if u.account_enabled
        and _never(u)
        and any(a.state in ASSIGNED_STATES for a in u.assignments)
    }
    assert never
    assert ground_truth(tenant)["users"]["never_signed_in"] >= len(never)
    assert {a.key for a in found[FindingRule.NEVER_SIGNED_IN].affected} == never
    assert not never & {a.key for a in found[FindingRule.INACTIVE_USERS].affected}


def test_overlap_and_errors_follow_disabled_plans_and_states(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    emulator, tenant = _start(make_emulator, tmp_path)
    covered, covering = sorted(contained(tenant))[0]
    plan = next(p.plan_id for p in tenant.products[covered].service_plans if p.applies_to == "User")
    free = [u for u in users(tenant) if not u.assignments]
    paid_twice, split, both_off = free[:3]
    for user in (paid_twice, split, both_off):
        mutations.assign(tenant, user.id, covered, force=True)
        mutations.assign(tenant, user.id, covering, force=True)
    # The larger product lacks one of the smaller one's plans: both are needed, no overlap.
    mutations.assign(tenant, split.id, covering, [plan], force=True)
    # The plan is off in both: the smaller product still adds nothing.
    mutations.assign(tenant, both_off.id, covered, [plan], force=True)
    mutations.assign(tenant, both_off.id, covering, [plan], force=True)
    # Switched off (even with a stale error code), an assignment is not an assignment error.
    switched_off = free[3]
    assignment_states.set_state(tenant, switched_off.id, covered, "Disabled", "CountViolation")
    pk = add_tenant(engine, tenant.domain, tenant.tenant_id)
    sync(engine, emulator, tenant, pk)

    found = _found(engine, pk)
    overlaps = {a.key for a in found[FindingRule.OVERLAPPING_PRODUCTS].affected}
    assert paid_twice.user_principal_name in overlaps
    assert both_off.user_principal_name in overlaps
    assert split.user_principal_name not in overlaps
    errors = {a.key for a in found[FindingRule.ASSIGNMENT_ERRORS].affected}
    assert errors
    assert switched_off.user_principal_name not in errors
