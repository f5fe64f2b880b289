"""Plan → approve → apply → delta confirms → undo restores, on the emulator over TLS, both DBs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plan_world import BASIC, STANDARD, start_world

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator import mutations
from licensewatch.emulator.truth import ground_truth
from licensewatch.services.audit import recent
from licensewatch.storage.database import make_engine


def _consumed(world_tenant: object, part: str) -> int:
    skus = ground_truth(world_tenant)["skus"]  # type: ignore[arg-type]
    return int(next(s["consumed"] for s in skus if s["sku_part_number"] == part))


@pytest.mark.slow
def test_plan_apply_confirm_undo(
    make_emulator: EmulatorFactory,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = start_world(make_emulator, database_url, tmp_path, monkeypatch)
    tenant = world.tenant
    # Two Business Standard holders with disabled plans and one without; a Basic holder who
    # also gets Basic from Sales (a direct duplicate), and one who gets it from Sales only.
    with_plans = world.direct_holders(STANDARD, disabled=True)[:2]
    plain = world.direct_holders(STANDARD, disabled=False)[0]
    duplicate = world.direct_holders(BASIC)[0]
    group = next(iter(tenant.groups.values()))
    mutations.add_member(tenant, group.id, duplicate)
    outsider = next(u for _, u in tenant.iter_users_from(0) if not u.assignments)
    mutations.update(tenant, outsider.user_principal_name, {"usageLocation": "GB"})
    mutations.add_member(tenant, group.id, outsider.user_principal_name)
    world.onboard()
    remembered = {upn: world.holds(upn, STANDARD) for upn in [*with_plans, plain]}
    assert all(remembered[upn] for upn in with_plans)

    refused = world.cli(
        "plan", "create", "--tenant", "office", "--remove", BASIC, "--users",
        str(world.users_file([duplicate, outsider.user_principal_name])),
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "from group 'Sales' only" in refused.output

    users = world.users_file([*with_plans, plain])
    create = ("--tenant", "office", "--remove")
    plan_id = world.create(*create, STANDARD, "--users", str(users))
    # By its friendly name, as every command takes products.
    one = str(world.users_file([duplicate]))
    made = world.cli("plan", "create", *create, "Microsoft 365 Business Basic", "--users", one)
    dup_id = int(made.stdout)  # stdout holds the id only; what is missing goes to stderr
    assert "licence writes are off for tenant office" in made.stderr
    assert world.plan(dup_id)["lines"][0]["action"] == "remove_duplicate"

    early = world.cli("plan", "apply", str(plan_id))
    assert early.exit_code == 2
    assert "draft" in early.output
    world.ok("plan", "approve", str(plan_id))
    world.ok("plan", "approve", str(dup_id))
    off = world.cli("plan", "apply", str(plan_id))
    assert off.exit_code == 2
    assert "--allow-writes" in off.output

    world.ok("tenant", "update", "office", "--allow-writes")
    no_role = world.cli("plan", "apply", str(plan_id))
    assert no_role.exit_code == 1
    assert "LicenseAssignment.ReadWrite.All" in no_role.output
    assert "API permissions" in no_role.output
    world.grant_writes()
    test = json.loads(world.cli("tenant", "test", "office", "--format", "json").output)
    writes = next(c for c in test["checks"] if c["key"] == "writes")
    assert writes["status"] == "ok"

    before = _consumed(tenant, STANDARD)
    world.ok("plan", "apply", str(plan_id))
    world.ok("plan", "apply", str(dup_id))
    assert _consumed(tenant, STANDARD) == before - 3
    for upn in [*with_plans, plain]:
        assert world.holds(upn, STANDARD) is None
    assert world.holds(duplicate, BASIC) is None  # the group's copy stays
    user = tenant.user(duplicate)
    assert user is not None
    assert BASIC in {tenant.products[s].part_number for s in user.assigned_sku_ids()}
    shown = world.plan(plan_id)
    assert shown["status"] == "applied"
    assert shown["confirmed_at"]
    assert [line["state"] for line in shown["lines"]] == ["confirmed"] * 3
    assert all(line["request_id"] for line in shown["lines"])
    assert world.plan(dup_id)["lines"][0]["state"] == "confirmed"

    again = world.ok("plan", "apply", str(plan_id))  # nothing left: nothing sent twice
    assert "confirmed" in again
    undo = world.ok("plan", "undo", str(plan_id))
    assert "undoing plan" in undo
    for upn, plans in remembered.items():
        assert world.holds(upn, STANDARD) == plans
    assert _consumed(tenant, STANDARD) == before
    undo_plan = json.loads(world.ok("plan", "list", "--format", "json"))[0]
    assert undo_plan["reverses_plan_id"] == plan_id
    assert world.plan(undo_plan["id"])["counts"] == {"confirmed": 3}
    second = world.cli("plan", "undo", str(plan_id))
    assert second.exit_code == 2
    assert "no applied line left" in second.output

    engine = make_engine(database_url)
    try:
        actions = {(e.action, e.outcome) for e in recent(engine, 100)}
    finally:
        engine.dispose()
    assert {("plan.created", "ok"), ("plan.approved", "ok"), ("plan.applied", "ok"),
            ("plan.undone", "ok"), ("tenant.writes_allowed", "ok")} <= actions  # fmt: skip
