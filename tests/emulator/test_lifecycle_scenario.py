"""The lifecycle scenario as Graph serves it: lapsed, trial, Deleted, Company and free SKUs."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_graph_helpers import make_env

from licensewatch.emulator import lifecycle, mutations
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.truth import ground_truth


def test_subscribed_skus_and_subscriptions_show_every_lifecycle_case(tmp_path: Path) -> None:
    world = build_world(scenario="lifecycle", seed=4, cert_dir=tmp_path)
    tenant = next(iter(world.tenants.values()))
    env = make_env(tenant)
    skus = {s["skuPartNumber"]: s for s in env.get("/v1.0/subscribedSkus").json()["value"]}
    visio = skus[lifecycle.SUSPENDED_SKU]
    assert visio["capabilityStatus"] == "Suspended"
    assert visio["prepaidUnits"] == {"enabled": 0, "warning": 0, "suspended": 25, "lockedOut": 0}
    assert visio["consumedUnits"] == 14  # Microsoft's own subscribedSkus example
    assert skus[lifecycle.LOCKED_OUT_SKU]["capabilityStatus"] == "LockedOut"
    deleted = skus[lifecycle.DELETED_SKU]
    assert (deleted["capabilityStatus"], deleted["subscriptionIds"]) == ("Deleted", [])
    assert set(deleted["prepaidUnits"].values()) == {0}
    company = skus[lifecycle.COMPANY_SKU]
    assert (company["appliesTo"], company["consumedUnits"]) == ("Company", 0)
    assert company["prepaidUnits"]["enabled"] == 1024
    free = skus[lifecycle.FREE_SKU]
    assert free["consumedUnits"] > free["prepaidUnits"]["enabled"]

    subscriptions = env.get("/v1.0/directory/subscriptions").json()["value"]
    e5 = [s for s in subscriptions if s["skuPartNumber"] == lifecycle.TRIAL_SKU]
    assert sorted(s["isTrial"] for s in e5) == [False, True]
    statuses = {s["status"] for s in subscriptions if s["skuPartNumber"] == "ENTERPRISEPACK"}
    assert statuses == {"Enabled", "Warning", "Deleted"}

    truth = {s["sku_part_number"]: s for s in ground_truth(tenant)["skus"]}
    assert (
        truth["VISIOCLIENT"]["lapsed_holders"],
        truth["VISIOCLIENT"]["over_assigned_units"],
    ) == (
        14,
        0,
    )
    assert truth[lifecycle.TRIAL_SKU]["trial"] == 25
    assert truth[lifecycle.TRIAL_SKU]["unassigned"] == 0
    assert truth[lifecycle.COMPANY_SKU]["section"] == "company"
    assert truth[lifecycle.FREE_SKU]["section"] == "free"
    assert truth["ENTERPRISEPACK"]["renewal_in_grace"] is True


def test_company_skus_cannot_be_assigned_to_users(tmp_path: Path) -> None:
    world = build_world(scenario="lifecycle", seed=4, cert_dir=tmp_path)
    tenant = next(iter(world.tenants.values()))
    user = next(u for _, u in tenant.iter_users_from(0))
    with pytest.raises(ValueError, match="applies to the company"):
        mutations.assign(tenant, user.id, lifecycle.COMPANY_SKU)
