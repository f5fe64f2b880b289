"""Scenario invariants: every problem of `messy`, realistic UPNs, licence bookkeeping, msp."""

from __future__ import annotations

import string
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from licensewatch.emulator.scenarios import SCENARIOS
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.state import ASSIGNED_STATES, Tenant, World, utcnow
from licensewatch.emulator.truth import ground_truth


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("certs")


@pytest.fixture(scope="module")
def messy(cert_dir: Path) -> Tenant:
    world = build_world(users=60, seed=12, scenario="messy", cert_dir=cert_dir)
    return next(iter(world.tenants.values()))


@pytest.fixture(scope="module")
def enterprise(cert_dir: Path) -> Tenant:
    world = build_world(users=3000, seed=13, scenario="enterprise", cert_dir=cert_dir)
    return next(iter(world.tenants.values()))


def holders(tenant: Tenant, part: str) -> list[str]:
    sku = next(s for s, p in tenant.products.items() if p.part_number == part)
    return [u.id for _, u in tenant.iter_users_from(0) if sku in u.assigned_sku_ids()]


def sku_facts(tenant: Tenant) -> dict[str, dict[str, Any]]:
    return {s["sku_part_number"]: s for s in ground_truth(tenant)["skus"]}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_consumed_units_equal_holders(scenario: str, cert_dir: Path) -> None:
    world = build_world(tenants=2, users=80, seed=14, scenario=scenario, cert_dir=cert_dir)
    for tenant in world.tenants.values():
        consumed = tenant.consumed_units()
        for sku in tenant.products:
            count = sum(
                any(a.sku_id == sku and a.state in ASSIGNED_STATES for a in u.assignments)
                for _, u in tenant.iter_users_from(0)
            )
            assert consumed[sku] == count
        for facts in ground_truth(tenant)["skus"]:
            assert facts["consumed"] == (
                facts["direct"] + facts["via_group"] - facts["direct_and_group"]
            )


def test_messy_has_every_problem(messy: Tenant) -> None:
    users = [u for _, u in messy.iter_users_from(0)]
    states = {(a.state, a.error) for u in users for a in u.assignments}
    assert ("Error", "CountViolation") in states
    assert ("Error", "MutuallyExclusiveViolation") in states
    assert ("ActiveWithError", "MutuallyExclusiveViolation") in states
    assert any(not u.account_enabled and u.assigned_sku_ids() for u in users)
    assert any(u.user_type == "Guest" and u.assigned_sku_ids() for u in users)
    assert any(not u.assigned_sku_ids() and u.user_type == "Member" for u in users)
    duplicates = [
        u
        for u in users
        for a in u.assignments
        if a.assigned_by_group is None
        and any(b.sku_id == a.sku_id and b.assigned_by_group for b in u.assignments)
    ]
    assert duplicates
    assert set(holders(messy, "SPE_E3")) & set(holders(messy, "SPE_E5"))  # E3 + E5 overlap
    facts = sku_facts(messy)
    assert facts["SPE_E3"]["available"] < 0  # over-assigned
    statuses = {s.status for s in messy.subscriptions}
    assert {"Enabled", "Warning", "Suspended", "LockedOut"} <= statuses
    assert any(s.is_trial for s in messy.subscriptions)
    now = utcnow()
    (app,) = messy.apps.values()
    assert any(now < s.expires < now + timedelta(days=30) for s in app.secrets)
    licensed_groups = [g for g in messy.groups.values() if g.assigned_licenses]
    assert any(g.member_ids for g in licensed_groups)


def test_sign_in_activity_mixes_recent_stale_and_never(messy: Tenant) -> None:
    now = utcnow()
    users = [u for _, u in messy.iter_users_from(0)]
    assert any(u.sign_in is None for u in users)
    last = [u.sign_in.last_sign_in for u in users if u.sign_in and u.sign_in.last_sign_in]
    assert any(now - t > timedelta(days=90) for t in last)
    assert any(now - t < timedelta(days=30) for t in last)
    assert sum(u.sign_in is not None for u in users) > len(users) / 2


def test_upns_look_like_real_tenants(enterprise: Tenant) -> None:
    users = [u for _, u in enterprise.iter_users_from(0)]
    for user in users:
        assert ("#EXT#@" in user.user_principal_name) == (user.user_type == "Guest")
        assert user.user_principal_name.endswith("@" + enterprise.domain)
    starts = [u.user_principal_name[0] for u in users]
    assert any(c.isdigit() for c in starts)
    assert "_" in starts
    # Entra refuses accented letters in userPrincipalName; display names keep theirs.
    allowed = set(string.ascii_letters + string.digits + "'.-_!#^~")
    assert all(set(u.user_principal_name.split("@")[0]) <= allowed for u in users)
    assert any(not c.isascii() for u in users for c in u.display_name)
    assert len({u.user_principal_name.lower() for u in users}) == len(users)
    guest = next(u for u in users if u.user_type == "Guest")
    local, _, external = (guest.mail or "").partition("@")
    assert guest.user_principal_name.startswith(f"{local}_{external}#EXT#@")


def test_members_carry_directory_attributes(enterprise: Tenant) -> None:
    members = [u for _, u in enterprise.iter_users_from(0) if u.user_type == "Member"]
    assert all(u.department and u.usage_location and u.created for u in members)
    assert all(u.employee_id and u.cost_center for u in members)
    assert len({u.department for u in members}) >= 10
    assert any(u.on_premises_sync_enabled for u in members)
    assert len({u.country for u in members}) >= 5


def test_group_licences_match_membership(enterprise: Tenant) -> None:
    for group in enterprise.groups.values():
        for uid in group.member_ids:
            user = enterprise.user(uid)
            assert user is not None
            for sku, _ in group.assigned_licenses:
                assert any(
                    a.sku_id == sku and a.assigned_by_group == group.id for a in user.assignments
                )
    facts = sku_facts(enterprise)
    assert facts["SPE_E3"]["via_group"] > 0
    assert facts["SPE_E3"]["direct"] > 0


def test_free_skus_have_huge_units(enterprise: Tenant) -> None:
    facts = sku_facts(enterprise)
    assert facts["FLOW_FREE"]["enabled"] == 10_000
    assert all(f["available"] >= 0 for f in facts.values())  # enterprise is not over-assigned


def msp_world(cert_dir: Path, users: int | None = None) -> World:
    return build_world(seed=15, scenario="msp", cert_dir=cert_dir, users=users)


def test_msp_has_many_small_tenants(cert_dir: Path) -> None:
    world = msp_world(cert_dir)
    tenants = list(world.tenants.values())
    assert len(tenants) == SCENARIOS["msp"].default_tenants
    assert all(5 <= t.user_count() <= 50 for t in tenants)
    assert len({t.domain for t in tenants}) == len(tenants)
    assert any(not t.has_premium for t in tenants)
    assert any(t.has_premium for t in tenants)
    assert [t.user_count() for t in msp_world(cert_dir, users=12).tenants.values()] == [12] * 5


def test_small_office_default_size(cert_dir: Path) -> None:
    world = build_world(seed=16, scenario="small-office", cert_dir=cert_dir)
    (tenant,) = world.tenants.values()
    assert 25 <= tenant.user_count() <= 60
    assert len(tenant.products) <= 5
    assert tenant.has_premium


def test_truth_counts_users(messy: Tenant) -> None:
    truth = ground_truth(messy)
    users = truth["users"]
    assert users["total"] == messy.user_count() == 60
    assert users["members"] + users["guests"] == users["total"]
    assert users["licensed"] + users["unlicensed"] == users["total"]
    assert users["disabled"] > 0
    assert truth["tenant_id"] == messy.tenant_id
    errors = {k for s in truth["skus"] for k in s["errors"]}
    assert {"CountViolation", "MutuallyExclusiveViolation"} <= errors
    assert all("value" not in str(app) for app in truth["apps"])
