"""recommend → plan → approve → apply → delta confirms → undo restores (emulator, TLS, both DBs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plan_world import start_world

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.state import Tenant
from licensewatch.emulator.truth import ground_truth


def _licences(tenant: Tenant) -> dict[str, set[tuple[str, str | None, tuple[str, ...]]]]:
    return {
        user.user_principal_name: {
            (a.sku_id, a.assigned_by_group, a.disabled_plans) for a in user.assignments
        }
        for _, user in tenant.iter_users_from(0)
    }


@pytest.mark.slow
def test_recommendations_become_a_plan_that_applies_and_undoes(
    make_emulator: EmulatorFactory,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = start_world(make_emulator, database_url, tmp_path, monkeypatch)
    world.grant_writes()
    world.onboard()
    world.ok("tenant", "update", "office", "--allow-writes")
    expected = ground_truth(world.tenant)["usage"]["recommendations"]
    assert expected
    before = _licences(world.tenant)

    plan_id = world.create("--tenant", "office", "--from-recommendations")
    plan = world.plan(plan_id)
    shown = sorted((line["user_principal_name"], line["action"]) for line in plan["lines"])
    wanted = {"remove": "remove", "remove_addon": "remove", "downgrade": "swap",
              "remove_duplicate": "remove_duplicate"}  # fmt: skip
    assert shown == sorted((r["user_principal_name"], wanted[r["action"]]) for r in expected)
    assert plan["source"] == "recommendations"

    only = world.create("--tenant", "office", "--from-recommendations",
                    "--action", "remove")  # fmt: skip
    removals = world.plan(only)["lines"]
    assert {line["action"] for line in removals} == {"remove"}

    world.ok("plan", "approve", str(plan_id))
    world.ok("plan", "apply", str(plan_id))
    applied = world.plan(plan_id)
    assert {line["state"] for line in applied["lines"]} == {"confirmed"}, applied["lines"]
    changed = {line["user_principal_name"] for line in applied["lines"]}
    after = _licences(world.tenant)
    assert all(after[upn] != before[upn] for upn in changed)

    world.ok("plan", "undo", str(plan_id))
    assert _licences(world.tenant) == before  # the same SKUs with the same disabled plans
    undo = json.loads(world.ok("plan", "list", "--format", "json"))[0]
    assert undo["reverses_plan_id"] == plan_id
    assert set(undo["counts"]) == {"confirmed"}
