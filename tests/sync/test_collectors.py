"""Graph JSON → rows: odd, missing and null fields never crash, and Graph names map to ours."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from licensewatch.storage.writers import USER_COLUMNS, USER_LICENSE_COLUMNS
from licensewatch.sync import collectors

ODD: list[Any] = [None, 1, "x", [], {}, True, 1.5, {"id": None}, {"id": 7}]


def test_full_user_maps_every_field() -> None:
    user = {
        "id": "u1",
        "userPrincipalName": "a@b.c",
        "accountEnabled": False,
        "createdDateTime": "2021-03-04T17:12:25Z",
        "employeeOrgData": {"costCenter": "CC-9", "division": None},
        "signInActivity": {"lastSuccessfulSignInDateTime": "2024-01-02T03:04:05.1234567Z"},
        "licenseAssignmentStates": [
            {
                "skuId": "s1",
                "assignedByGroup": None,
                "state": "Active",
                "error": "None",
                "disabledPlans": [],
            },
            {
                "skuId": "s1",
                "assignedByGroup": "g1",
                "state": "Error",
                "error": "CountViolation",
                "disabledPlans": ["p1", "p2"],
            },
            {"skuId": None},
            "junk",
        ],
        "unknownProperty": {"nested": [1, 2]},
    }
    row = dict(zip(USER_COLUMNS, collectors.user_row(5, 2, user), strict=True))
    assert row["account_enabled"] is False
    assert row["cost_center"] == "CC-9"
    assert row["created_at"] == datetime(2021, 3, 4, 17, 12, 25, tzinfo=UTC)
    assert row["last_successful_sign_in_at"] == datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert row["last_sign_in_at"] is None
    licences = collectors.license_rows(5, user)
    assert all(len(r) == len(USER_LICENSE_COLUMNS) for r in licences)
    assert licences == [
        (5, "u1", "s1", None, "Active", None, ""),
        (5, "u1", "s1", "g1", "Error", "CountViolation", "p1,p2"),
    ]


def test_assigned_licenses_stand_in_for_missing_states() -> None:
    user = {"id": "u", "assignedLicenses": [{"skuId": "s", "disabledPlans": ["p"]}, {"x": 1}]}
    assert collectors.license_rows(1, user) == [(1, "u", "s", None, "Active", None, "p")]
    assert collectors.license_rows(1, {**user, "licenseAssignmentStates": []}) == []


@pytest.mark.parametrize("value", ODD)
def test_odd_values_never_crash(value: Any) -> None:
    weird = {
        key: value
        for key in (
            "userPrincipalName",
            "accountEnabled",
            "createdDateTime",
            "employeeOrgData",
            "signInActivity",
            "licenseAssignmentStates",
            "assignedLicenses",
        )
    }
    row = collectors.user_row(1, 1, {"id": "u", **weird})
    assert len(row) == len(USER_COLUMNS)
    collectors.license_rows(1, {"id": "u", **weird})
    assert collectors.user_id(value) in (None, "x") or isinstance(value, dict)
    collectors.sku_rows(1, [value, {"skuId": "s", "prepaidUnits": value, "servicePlans": value}])
    collectors.subscription_rows(1, [value, {"id": "i", "totalLicenses": value, "isTrial": value}])
    collectors.group_rows(1, [value, {"id": "g", "assignedLicenses": value}])
    assert collectors.organization(value) == (None, None) or isinstance(value, dict)


def test_overlong_text_is_clipped_to_the_column() -> None:
    row = collectors.user_row(1, 1, {"id": "u", "usageLocation": "X" * 50})
    assert row[USER_COLUMNS.index("usage_location")] == "X" * 10


@pytest.mark.parametrize(
    "never", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00", ""]
)
def test_sign_in_sentinels_mean_never(never: str) -> None:
    user = {
        "id": "u",
        "signInActivity": {
            "lastSignInDateTime": never,
            "lastNonInteractiveSignInDateTime": never,
            "lastSuccessfulSignInDateTime": "2025-05-06T07:08:09Z",
        },
    }
    row = dict(zip(USER_COLUMNS, collectors.user_row(1, 1, user), strict=True))
    assert row["last_sign_in_at"] is None
    assert row["last_non_interactive_sign_in_at"] is None
    assert row["last_successful_sign_in_at"] == datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
