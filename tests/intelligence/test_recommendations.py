"""Recommendations after a real sync over TLS: exactly the emulator's expected ones per scenario."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from intelligence_world import start_and_sync, sync
from sqlalchemy import Engine

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.state import ASSIGNED_STATES
from licensewatch.emulator.truth import ground_truth
from licensewatch.emulator.usage_truth import expected_recommendations
from licensewatch.intelligence.exclusions import exclude, exclude_holder, include_holder
from licensewatch.intelligence.prices import set_price
from licensewatch.intelligence.recommendations import Recommendation, tenant_recommendations

# Monthly prices in one currency, ordered as list prices are (E5 > E3 > Standard > E1 > Basic > F3).
PRICES = {
    "SPE_E5": "57.00",
    "SPE_E3": "36.00",
    "ENTERPRISEPREMIUM": "38.00",
    "ENTERPRISEPACK": "23.00",
    "O365_BUSINESS_PREMIUM": "12.50",
    "STANDARDPACK": "10.00",
    "O365_BUSINESS_ESSENTIALS": "6.00",
    "DESKLESSPACK": "4.00",
}


def shape(found: list[Recommendation]) -> list[dict[str, Any]]:
    items = [
        {
            "user_principal_name": r.user_principal_name,
            "action": r.action,
            "sku_part_number": r.sku_part_number,
            "target_sku_part_number": r.target_sku_part_number,
            "confidence": r.confidence,
        }
        for r in found
    ]
    return sorted(items, key=lambda i: (i["user_principal_name"].lower(), i["sku_part_number"]))


@pytest.mark.parametrize("scenario", ["small-office", "enterprise", "messy", "lifecycle"])
def test_recommendations_equal_the_truth(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, scenario: str
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path, scenario=scenario, users=60)
    expected = ground_truth(synced.tenant)["usage"]
    found = tenant_recommendations(engine)
    assert shape(found) == expected["recommendations"]
    assert {r["action"] for r in expected["recommendations"]} >= {"remove"}
    # Without prices there is no saving to state, never a made-up zero.
    assert all(r.monthly_saving is None for r in found if r.action != "remove_duplicate")


@pytest.mark.parametrize("scenario", ["enterprise", "messy"])
def test_priced_recommendations_equal_the_truth_and_save_the_price_difference(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, scenario: str
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path, scenario=scenario, users=60)
    present = {p.part_number for p in synced.tenant.products.values()}
    for part, amount in PRICES.items():
        if part in present:
            set_price(engine, part, amount, "EUR", "monthly")
    monthly = {p: (Decimal(a), "EUR") for p, a in PRICES.items() if p in present}
    expected = expected_recommendations(synced.tenant, prices=monthly)["recommendations"]
    found = tenant_recommendations(engine)
    assert shape(found) == expected
    actions = {r.action for r in found}
    assert actions == {"remove", "downgrade", "remove_addon", "remove_duplicate"} or (
        scenario == "enterprise" and actions >= {"remove", "downgrade"}
    )
    downgrades = {(r.sku_part_number, r.target_sku_part_number) for r in found}
    assert ("SPE_E3", "O365_BUSINESS_ESSENTIALS") in downgrades  # across families, by price
    for r in found:
        price = Decimal(PRICES[r.sku_part_number]) if r.sku_part_number in PRICES else None
        if price is None:
            assert (r.monthly_saving, r.yearly_saving, r.currency) == (None, None, None)
            continue
        if r.action == "remove_duplicate":
            saving = Decimal(0)  # one user holding a SKU twice consumes one unit
        elif r.action == "downgrade":
            assert r.target_sku_part_number is not None
            saving = price - Decimal(PRICES[r.target_sku_part_number])
        else:
            saving = price
        assert (r.monthly_saving, r.yearly_saving, r.currency) == (saving, saving * 12, "EUR")
        assert r.to_dict()["monthly_saving"] == f"{saving:.2f}"
    # Most money first.
    savings = [r.yearly_saving or Decimal(0) for r in found]
    assert savings == sorted(savings, reverse=True)


def test_exclusions_of_users_groups_and_products(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path, scenario="messy", users=60)
    before = tenant_recommendations(engine)
    user = before[0].user_principal_name
    exclude_holder(engine, "user", user.upper())
    assert user not in {r.user_principal_name for r in tenant_recommendations(engine)}
    assert include_holder(engine, "user", user)
    group = next(g for g in synced.tenant.groups.values() if g.display_name == "LIC-M365-E3")
    exclude_holder(engine, "group", group.display_name)
    members = {
        u.user_principal_name
        for _, u in synced.tenant.iter_users_from(0)
        if any(
            a.assigned_by_group == group.id and a.state in ASSIGNED_STATES for a in u.assignments
        )
    }
    left = {r.user_principal_name for r in tenant_recommendations(engine)}
    assert members
    assert not (members & left)
    include_holder(engine, "group", group.id)
    exclude(engine, "SPE_E3", "everywhere")
    assert "SPE_E3" not in {r.sku_part_number for r in tenant_recommendations(engine)}
    with pytest.raises(ValueError, match="no licensed group"):
        exclude_holder(engine, "group", "No Such Group")
    with pytest.raises(ValueError, match="userPrincipalName"):
        exclude_holder(engine, "user", "not-an-upn")


def test_every_msp_customer_equal_the_truth(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    """Concealed names (read from the settings or inferred), a missing permission, plain ones."""
    world = build_world(tenants=5, users=20, seed=1, scenario="msp", cert_dir=tmp_path)
    emulator = make_emulator(world)
    for tenant in world.tenants.values():
        pk = add_tenant(engine, tenant.domain, tenant.tenant_id)
        sync(engine, emulator, tenant, pk)
        expected = ground_truth(tenant)["usage"]["recommendations"]
        assert shape(tenant_recommendations(engine, tenant.domain)) == expected
