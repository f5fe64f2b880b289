"""Microsoft's own documented Graph bodies, verbatim, through the product's parsing and numbers.

The emulator serves bodies built from our model; these come from Microsoft's documentation, so a
modelling choice the emulator shares with the product cannot hide a wrong number here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from licensewatch.domain.balance import build_row, totals
from licensewatch.sync.collectors import sku_rows

NOW = datetime(2026, 12, 3, tzinfo=UTC)
# The response of "List subscribedSkus", as Microsoft documents it (servicePlans shortened):
# https://learn.microsoft.com/graph/api/subscribedsku-list?view=graph-rest-1.0#response
LIST_SUBSCRIBED_SKUS: dict[str, Any] = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscribedSkus",
    "value": [
        {
            "accountName": "Sample account One",
            "accountId": "f97aeefc-af85-414d-8ae4-b457f90efc40",
            "appliesTo": "User",
            "capabilityStatus": "Enabled",
            "consumedUnits": 14,
            "id": "48a80680-7326-48cd-9935-b556b81d3a4e_c7df2760-2c81-4ef7-b578-5b5392b571df",
            "prepaidUnits": {"enabled": 25, "lockedOut": 0, "suspended": 0, "warning": 0},
            "servicePlans": [
                {
                    "servicePlanId": "8c098270-9dd4-4350-9b30-ba4703f3b36b",
                    "servicePlanName": "ADALLOM_S_O365",
                    "provisioningStatus": "Success",
                    "appliesTo": "Company",
                }
            ],
            "skuId": "c7df2760-2c81-4ef7-b578-5b5392b571df",
            "skuPartNumber": "ENTERPRISEPREMIUM",
            "subscriptionIds": ["43d26afe-cb98-48b9-acc4-ae3ef2ac6c51"],
        },
        {
            "accountName": "Sample account Two",
            "accountId": "ee045480-0260-4c1e-b946-55842502229c",
            "appliesTo": "User",
            "capabilityStatus": "Suspended",
            "consumedUnits": 14,
            "id": "48a80680-7326-48cd-9935-b556b81d3a4e_d17b27af-3f49-4822-99f9-56a661538792",
            "prepaidUnits": {"enabled": 0, "lockedOut": 0, "suspended": 25, "warning": 0},
            "servicePlans": [
                {
                    "servicePlanId": "f9646fb2-e3b2-4309-95de-dc4833737456",
                    "servicePlanName": "CRMSTANDARD",
                    "provisioningStatus": "Disabled",
                    "appliesTo": "User",
                }
            ],
            "skuId": "d17b27af-3f49-4822-99f9-56a661538792",
            "skuPartNumber": "CRMSTANDARD",
            "subscriptionIds": ["15c301e0-c769-4f12-bab1-1e8519a7a6f1"],
        },
    ],
}


def _rows(body: dict[str, Any]) -> dict[str, Any]:
    skus, _plans = sku_rows(1, body["value"])
    keep = ("applies_to", "capability_status", "enabled", "warning", "suspended", "locked_out")
    return {
        sku["sku_part_number"]: build_row(
            tenant="contoso",
            sku_id=sku["sku_id"],
            sku_part_number=sku["sku_part_number"],
            consumed=sku["consumed"],
            now=NOW,
            **{name: sku[name] for name in keep},
        )
        for sku in skus
    }


def test_the_documented_suspended_sku_is_lapsed_with_its_holders_never_seats_to_buy() -> None:
    rows = _rows(LIST_SUBSCRIBED_SKUS)
    suspended, enabled = rows["CRMSTANDARD"], rows["ENTERPRISEPREMIUM"]
    # Not renewed: 14 people hold units that were suspended, none of them usable.
    assert (suspended.purchased, suspended.lapsed_holders, suspended.over_assigned_units) == (
        0,
        14,
        0,
    )
    assert suspended.lapsed
    assert not suspended.over_assigned
    assert suspended.unassigned == 0  # no money wasted on seats nobody can use
    assert (enabled.purchased, enabled.consumed, enabled.available, enabled.unassigned) == (
        25,
        14,
        11,
        11,
    )
    summed = totals(rows.values())
    assert (summed.over_assigned, summed.lapsed, summed.lapsed_holders) == (0, 1, 14)
    # The cards add up over the same paid rows.
    assert summed.available == summed.purchased + summed.trial - summed.consumed


def test_the_get_example_without_locked_out_reads_the_same() -> None:
    # "Get subscribedSku" documents the same SKU with no `lockedOut` key at all:
    # https://learn.microsoft.com/graph/api/subscribedsku-get?view=graph-rest-1.0#response
    body = {"value": [dict(sku) for sku in LIST_SUBSCRIBED_SKUS["value"]]}
    for sku in body["value"]:
        sku["prepaidUnits"] = {k: v for k, v in sku["prepaidUnits"].items() if k != "lockedOut"}
    assert _rows(body)["CRMSTANDARD"].lapsed_holders == 14
    assert _rows(body)["CRMSTANDARD"].locked_out == 0
