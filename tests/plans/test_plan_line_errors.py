"""Per-line outcomes: swaps carry disabled plans, refusals keep their request-id and do not stop
the batch, throttling is waited out, and a delta sync tells confirmed from drifted."""

from __future__ import annotations

from pathlib import Path

import pytest
from plan_world import BASIC, STANDARD, start_world

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator import mutations
from licensewatch.emulator.faults import FaultInjector
from licensewatch.services.plans import Actor, approve_plan, show_plan
from licensewatch.storage.database import make_engine
from licensewatch.sync.plan_apply import apply_plan
from licensewatch.sync.plan_confirm import confirm_lines
from licensewatch.sync.runner import run_sync


@pytest.mark.slow
def test_errors_per_line_throttling_and_drift(
    make_emulator: EmulatorFactory, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = start_world(make_emulator, sqlite_url, tmp_path, monkeypatch)
    tenant = world.tenant
    world.grant_writes()
    with_plans = world.direct_holders(STANDARD, disabled=True)
    plain = world.direct_holders(STANDARD, disabled=False)
    nowhere = plain[0]  # no usage location: Microsoft refuses to add a licence
    mutations.update(tenant, nowhere, {"usageLocation": None})
    throttled = plain[1]
    people = [with_plans[0], nowhere, throttled, plain[2]]
    world.onboard()
    world.ok("tenant", "update", "office", "--allow-writes")
    basic = mutations.resolve_sku(tenant, BASIC).sku_id
    # Basic has seats for 3 more: the 4th swap finds none.
    spare = mutations.free_units(tenant, basic)
    first = mutations.find_subscription(tenant, BASIC)
    mutations.set_units(tenant, BASIC, first.total_licenses - spare + 2)
    assert mutations.free_units(tenant, basic) == 2
    injector: FaultInjector = world.emulator.app.state.injector  # type: ignore[attr-defined]
    throttled_id = tenant.user(throttled).id  # type: ignore[union-attr]
    injector.configure(f"429=1@/v1.0/users/{throttled_id}/assignLicense#2")
    create = ("--tenant", "office", "--remove", STANDARD, "--to", BASIC)
    plan_id = world.create(*create, "--users", str(world.users_file(people)))
    world.ok("plan", "approve", str(plan_id))
    result = world.cli("plan", "apply", str(plan_id))
    assert result.exit_code == 1, result.output  # a line failed: the others went on
    lines = {line["user_principal_name"]: line for line in world.plan(plan_id)["lines"]}

    swapped = lines[with_plans[0]]
    assert swapped["state"] == "confirmed"
    assert swapped["add_disabled_plans"]  # carried over from Business Standard
    assert world.holds(with_plans[0], BASIC) == tuple(swapped["add_disabled_plans"])
    refused = lines[nowhere]
    assert refused["state"] == "failed"
    assert refused["error"] == (
        "License assignment cannot be done for user with invalid usage location."
    )
    assert refused["request_id"]
    assert world.holds(nowhere, STANDARD) is not None  # untouched
    assert lines[throttled]["state"] == "confirmed"  # two 429s waited out
    last = lines[plain[2]]
    assert last["state"] == "failed"
    assert "has no more available licenses" in last["error"]

    # Drift: a line applied, then changed back by someone before the delta sync looks.
    engine = make_engine(sqlite_url)
    try:
        world.ok("tenant", "update", "office", "--four-eyes")
        second = plan_id + 1
        again = ("--tenant", "office", "--remove", STANDARD)
        assert world.create(*again, "--users", str(world.users_file(plain[3:5]))) == second
        refusal = world.cli("plan", "approve", str(second))
        assert refusal.exit_code == 2
        assert "another administrator must approve" in refusal.output

        approve_plan(engine, second, Actor("alice", "203.0.113.9"))
        report = apply_plan(engine, second, Actor("alice"), confirm=False)
        assert report.plan.counts == {"applied": 2}
        mutations.assign(tenant, plain[3], STANDARD, force=True)
        tenant_pk = world.tenant_pk(engine)
        connection_result = run_sync(engine, tenant_pk, world.connection(engine), mode="delta")
        assert connection_result.ok
        confirm_lines(engine, second, tenant_pk)
        states = {line.user_principal_name: line.state for line in show_plan(engine, second).lines}
        assert states == {plain[3]: "drifted", plain[4]: "confirmed"}
    finally:
        engine.dispose()
