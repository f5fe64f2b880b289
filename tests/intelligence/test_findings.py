"""Findings after a real sync over TLS: exact users, counts and money per rule."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from intelligence_world import (
    PRICES,
    contained,
    cost,
    held,
    inactive,
    last_activity,
    name,
    part,
    start_and_sync,
    sync,
    users,
)
from sqlalchemy import Engine

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator import mutations
from licensewatch.emulator.state import ASSIGNED_STATES, Tenant
from licensewatch.emulator.truth import ground_truth
from licensewatch.intelligence.builtin_names import FREE_PART_NUMBERS
from licensewatch.intelligence.exclusions import exclude
from licensewatch.intelligence.findings import Finding, FindingRule, compute_findings
from licensewatch.intelligence.prices import set_price
from licensewatch.storage.models import utcnow


def _prices(engine: Engine, tenant: Tenant) -> None:
    present = {p.part_number for p in tenant.products.values()}
    for key, (amount, currency, term) in PRICES.items():
        if key in present:
            set_price(engine, key, amount, currency, term)


def _by_rule(findings: list[Finding]) -> dict[FindingRule, Finding]:
    return {f.rule: f for f in findings}


def _money(finding: Finding) -> tuple[dict[str, Decimal], set[str]]:
    assert finding.cost is not None
    return finding.cost.monthly(), finding.cost.unpriced


def _users_holding(tenant: Tenant, predicate: object) -> dict[str, set[str]]:
    return {u.user_principal_name: held(u) for u in users(tenant) if held(u) and predicate(u)}  # type: ignore[operator]


def _expect_users(tenant: Tenant, finding: Finding, expected: dict[str, set[str]]) -> None:
    assert [a.key for a in finding.affected] == sorted(expected)
    assert finding.count == len(expected)
    items = [(sku, 1) for skus in expected.values() for sku in skus]
    assert _money(finding) == cost(tenant, items)
    for affected in finding.affected:
        assert sorted(affected.products) == sorted(name(tenant, s) for s in expected[affected.key])


def test_every_finding_matches_the_emulated_tenant(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path, sign_in=True)
    tenant, now = synced.tenant, utcnow()
    _prices(engine, tenant)
    found = _by_rule(compute_findings(engine, synced.tenant_pk, now=now))
    assert list(found) == list(FindingRule)
    truth = {s["sku_id"]: s for s in ground_truth(tenant)["skus"]}

    # Trial seats and free SKUs are never waste (the truth's meaning, emulator/truth.py).
    spare = {sku: s["unassigned"] for sku, s in truth.items() if s["unassigned"] > 0}
    assert any(s["trial"] for s in truth.values()), "the messy scenario has a trial"
    assert not any(truth[sku]["sku_part_number"] in FREE_PART_NUMBERS for sku in spare)
    seats = found[FindingRule.UNASSIGNED_SEATS]
    assert {a.key: a.units for a in seats.affected} == spare
    assert seats.count == sum(spare.values())
    assert _money(seats) == cost(tenant, spare.items())

    over = {sku: s["over_assigned_units"] for sku, s in truth.items() if s["over_assigned_units"]}
    assert over, "the messy scenario over-assigns SPE_E3"
    finding = found[FindingRule.OVER_ASSIGNED]
    assert {a.key: a.units for a in finding.affected} == over
    assert _money(finding) == cost(tenant, over.items())

    disabled = _users_holding(tenant, lambda u: not u.account_enabled)
    assert disabled
    _expect_users(tenant, found[FindingRule.DISABLED_HOLDERS], disabled)
    guests = _users_holding(tenant, lambda u: u.user_type == "Guest")
    assert guests
    _expect_users(tenant, found[FindingRule.GUEST_HOLDERS], guests)

    duplicates = {}
    for u in users(tenant):
        active = [a for a in u.assignments if a.state in ASSIGNED_STATES]
        both = {a.sku_id for a in active if a.assigned_by_group is None} & {
            a.sku_id for a in active if a.assigned_by_group is not None
        }
        if both:
            duplicates[u.user_principal_name] = both
    finding = found[FindingRule.DIRECT_AND_GROUP]
    assert duplicates
    assert [a.key for a in finding.affected] == sorted(duplicates)
    assert finding.cost is None

    overlaps: dict[str, set[str]] = defaultdict(set)
    for u in users(tenant):
        for covered, covering in contained(tenant):
            if {covered, covering} <= held(u):
                overlaps[u.user_principal_name].add(covered)
    assert overlaps, "the messy scenario gives E3 to E5 holders"
    _expect_users(tenant, found[FindingRule.OVERLAPPING_PRODUCTS], dict(overlaps))

    errors = {
        u.user_principal_name: {a.error for a in u.assignments if a.error != "None"}
        for u in users(tenant)
        if any(a.error != "None" for a in u.assignments)
    }
    finding = found[FindingRule.ASSIGNMENT_ERRORS]
    assert [a.key for a in finding.affected] == sorted(errors)
    codes = {a.key: {d.split(" ")[0] for d in a.detail.split("; ")} for a in finding.affected}
    assert codes == errors
    assert {"CountViolation", "MutuallyExclusiveViolation"} <= set().union(*errors.values())

    horizon = now + timedelta(days=30)
    lapsing = {
        s.id: s.total_licenses
        for s in tenant.subscriptions
        if s.status in ("Warning", "Suspended")
        or (
            s.is_trial
            and s.status == "Enabled"
            and s.next_lifecycle
            and s.next_lifecycle <= horizon
        )
    }
    finding = found[FindingRule.LAPSING_SUBSCRIPTIONS]
    assert lapsing
    assert {a.key: a.units for a in finding.affected} == lapsing
    subscription_sku = {s.id: s.sku_id for s in tenant.subscriptions}
    assert _money(finding) == cost(tenant, [(subscription_sku[k], n) for k, n in lapsing.items()])

    cutoff_users = _users_holding(tenant, lambda u: u.account_enabled and inactive(u, now, 90))
    assert cutoff_users
    _expect_users(tenant, found[FindingRule.INACTIVE_USERS], cutoff_users)
    never = _users_holding(tenant, lambda u: u.account_enabled and not last_activity(u))
    assert never
    _expect_users(tenant, found[FindingRule.NEVER_SIGNED_IN], never)


def test_sign_in_findings_say_why_they_are_unavailable(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path, sign_in=False)
    found = _by_rule(compute_findings(engine, synced.tenant_pk))
    for rule in (FindingRule.INACTIVE_USERS, FindingRule.NEVER_SIGNED_IN):
        reason = found[rule].unavailable
        assert reason is not None
        assert "AuditLog.Read.All" in reason
        assert "P1 or P2" in reason
        assert found[rule].affected == []
        assert found[rule].csv_rows()[0]["detail"].startswith("unavailable: ")


def test_mutations_show_up_and_exclusions_hide_products(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path, scenario="small-office", users=30)
    tenant = synced.tenant
    _prices(engine, tenant)
    member = next(
        u for u in users(tenant) if u.account_enabled and held(u) and u.user_type == "Member"
    )
    mutations.set_enabled(tenant, member.id, False)
    sync(engine, synced.emulator, tenant, synced.tenant_pk)
    disabled = _by_rule(compute_findings(engine, synced.tenant_pk))[FindingRule.DISABLED_HOLDERS]
    assert member.user_principal_name in [a.key for a in disabled.affected]
    mine = next(a for a in disabled.affected if a.key == member.user_principal_name)
    assert sorted(mine.products) == sorted(name(tenant, s) for s in held(member))

    for sku in held(member):
        exclude(engine, part(tenant, sku), "everywhere")
    disabled = _by_rule(compute_findings(engine, synced.tenant_pk))[FindingRule.DISABLED_HOLDERS]
    assert member.user_principal_name not in [a.key for a in disabled.affected]
    seats = _by_rule(compute_findings(engine, synced.tenant_pk))[FindingRule.UNASSIGNED_SEATS]
    assert not {a.key for a in seats.affected} & held(member)


@pytest.mark.parametrize("days", [30, 400])
def test_inactivity_window_is_configurable(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, days: int
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path, sign_in=True, users=30)
    now = utcnow()
    finding = _by_rule(compute_findings(engine, synced.tenant_pk, now=now, inactive_days=days))[
        FindingRule.INACTIVE_USERS
    ]
    expected = _users_holding(synced.tenant, lambda u: u.account_enabled and inactive(u, now, days))
    assert [a.key for a in finding.affected] == sorted(expected)
    assert str(days) in finding.title
