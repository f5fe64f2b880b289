"""Emulator: `id in (…)`, delta without licenseAssignmentStates, @removed reasons, sentinels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_graph_helpers import Env, make_env

from licensewatch.emulator import assignment_states, mutations
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.truth import ground_truth

AUDIT = frozenset({"User.Read.All", "AuditLog.Read.All"})


def test_id_in_filter_takes_at_most_15_ids() -> None:
    env = make_env()
    ids = [u.id for _, u in env.tenant.iter_users_from(0)]
    listed = ",".join(f"'{i}'" for i in ids[:3])
    page = env.get(f"/v1.0/users?$filter=id in ({listed})&$select=id").json()
    assert sorted(u["id"] for u in page["value"]) == sorted(ids[:3])
    too_many = ",".join(f"'{i}'" for i in ids[:16])
    refused = env.get(f"/v1.0/users?$filter=id in ({too_many})")
    assert refused.status_code == 400


def _delta_round(env: Env, select: str) -> tuple[list[dict[str, Any]], str]:
    values: list[dict[str, Any]] = []
    link = ""
    for page in env.pages(f"/v1.0/users/delta?$select={select}"):
        values += page["value"]
        link = page.get("@odata.deltaLink", link)
    return values, link


def test_delta_items_without_states_and_removal_reasons() -> None:
    env = make_env(delta_license_states=False)
    first, link = _delta_round(env, "id,assignedLicenses,licenseAssignmentStates")
    assert first
    assert all("licenseAssignmentStates" not in item for item in first)
    assert any(item["assignedLicenses"] for item in first)
    people = [u for _, u in env.tenant.iter_users_from(0)]
    mutations.delete(env.tenant, people[0].id, soft=True)
    mutations.delete(env.tenant, people[1].id)
    sku = next(iter(env.tenant.products))
    assignment_states.set_state(env.tenant, people[2].id, sku, "Disabled")
    changed = env.get(link).json()["value"]
    by_id = {item["id"]: item for item in changed}
    assert by_id[people[0].id]["@removed"] == {"reason": "changed"}
    assert by_id[people[1].id]["@removed"] == {"reason": "deleted"}
    assert "licenseAssignmentStates" not in by_id[people[2].id]


def test_sign_in_sentinels_replace_null_dates() -> None:
    env = make_env(sign_in_sentinels=True)
    never = next(u for _, u in env.tenant.iter_users_from(0))
    never.sign_in = None
    answer = env.get(f"/v1.0/users/{never.id}?$select=id,signInActivity", roles=AUDIT).json()
    assert answer["signInActivity"] == {
        "lastSignInDateTime": "",
        "lastSignInRequestId": "",
        "lastNonInteractiveSignInDateTime": "0001-01-01T00:00:00Z",
        "lastNonInteractiveSignInRequestId": "",
        "lastSuccessfulSignInDateTime": "0001-01-01T00:00:00Z",
        "lastSuccessfulSignInRequestId": "",
    }


def test_messy_tenant_shows_every_assignment_state(tmp_path: Path) -> None:
    world = build_world(tenants=1, users=50, seed=1, scenario="messy", cert_dir=tmp_path)
    tenant = next(iter(world.tenants.values()))
    truth = ground_truth(tenant)["skus"]
    errors = {code for sku in truth for code in sku["errors"]}
    assert {"CountViolation", "ProhibitedInUsageLocationViolation", "Other"} <= errors
    assert sum(sku["disabled_assignments"] for sku in truth) >= 1
    states = {(a.state, a.error) for _, u in tenant.iter_users_from(0) for a in u.assignments}
    assert ("ActiveWithError", "DependencyViolation") in states
    assert ("ActiveWithError", "MutuallyExclusiveViolation") in states
