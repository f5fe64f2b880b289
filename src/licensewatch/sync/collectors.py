"""Graph JSON → storage rows: the one place Graph's names become ours; odd data never raises."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from licensewatch.domain.text import clean_text
from licensewatch.sync import row_builder, user_stream
from licensewatch.sync.row_builder import joined, license_error, timestamp

__all__ = ["joined", "license_error", "timestamp"]  # re-exported: Graph's text → values, one place

# $select for /users, from the declared stream (signInActivity only when the app may read it).
USER_FIELDS = user_stream.select(with_sign_in=False)
SIGN_IN_FIELD = user_stream.SIGN_IN
SIGN_IN_PERMISSION = user_stream.SIGN_IN_PERMISSION
GROUP_FIELDS = "id,displayName,assignedLicenses,licenseProcessingState"

Json = Mapping[str, Any]


def text(value: Any) -> str | None:
    """A string from Graph, cleaned of control and bidi characters (`domain.text`); else None."""
    return clean_text(value) if isinstance(value, str) else None


def number(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return 0
    return 0


def flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


# orjson decodes JSON objects to dict: checking for dict avoids the slow ABC check of Mapping.
_EMPTY: Json = {}


def mapping(value: Any) -> Json:
    return value if isinstance(value, dict) else _EMPTY


def items(value: Any) -> list[Json]:
    """The dicts of a JSON list (anything else is ignored)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def organization(body: Any) -> tuple[str | None, str | None]:
    """(display name, tenant id) from GET /organization."""
    for org in items(mapping(body).get("value")):
        return text(org.get("displayName")), text(org.get("id"))
    return None, None


def sku_rows(
    tenant_id: int, skus: Iterable[Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(skus rows, sku_service_plans rows) from /subscribedSkus items; aggregates start at 0."""
    rows: dict[str, dict[str, Any]] = {}
    plans: dict[tuple[str, str], dict[str, Any]] = {}
    for sku in skus:
        if not isinstance(sku, Mapping) or not text(sku.get("skuId")):
            continue
        sku_id = sku["skuId"]
        units = mapping(sku.get("prepaidUnits"))
        subscription_ids = [s for s in sku.get("subscriptionIds") or [] if isinstance(s, str)]
        rows[sku_id] = {
            "tenant_id": tenant_id,
            "sku_id": sku_id,
            "sku_part_number": text(sku.get("skuPartNumber")) or sku_id,
            "applies_to": text(sku.get("appliesTo")),
            "capability_status": text(sku.get("capabilityStatus")),
            "enabled": number(units.get("enabled")),
            "warning": number(units.get("warning")),
            "suspended": number(units.get("suspended")),
            "locked_out": number(units.get("lockedOut")),
            "consumed": number(sku.get("consumedUnits")),
            "subscription_ids": subscription_ids,
            "direct_assigned": 0,
            "group_assigned": 0,
            "assignment_errors": 0,
        }
        for plan in items(sku.get("servicePlans")):
            plan_id = text(plan.get("servicePlanId"))
            if plan_id:
                plans[(sku_id, plan_id)] = {
                    "tenant_id": tenant_id,
                    "sku_id": sku_id,
                    "service_plan_id": plan_id,
                    "service_plan_name": text(plan.get("servicePlanName")),
                    "provisioning_status": text(plan.get("provisioningStatus")),
                    "applies_to": text(plan.get("appliesTo")),
                    "service_plan_type": text(plan.get("servicePlanType")),
                }
    return list(rows.values()), list(plans.values())


def subscription_rows(tenant_id: int, subscriptions: Iterable[Any]) -> list[dict[str, Any]]:
    """subscriptions rows from /directory/subscriptions items."""
    rows: dict[str, dict[str, Any]] = {}
    for sub in subscriptions:
        if not isinstance(sub, Mapping) or not text(sub.get("id")):
            continue
        rows[sub["id"]] = {
            "tenant_id": tenant_id,
            "id": sub["id"],
            "commerce_subscription_id": text(sub.get("commerceSubscriptionId")),
            "sku_id": text(sub.get("skuId")) or "",
            "sku_part_number": text(sub.get("skuPartNumber")),
            "status": text(sub.get("status")),
            "total_licenses": number(sub.get("totalLicenses")),
            "is_trial": flag(sub.get("isTrial")) or False,
            "created_at": timestamp(sub.get("createdDateTime")),
            "next_lifecycle_at": timestamp(sub.get("nextLifecycleDateTime")),
        }
    return list(rows.values())


def group_rows(
    tenant_id: int, groups: Iterable[Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(groups rows, group_licenses rows) for the groups that hand out at least one licence."""
    group_out: dict[str, dict[str, Any]] = {}
    licences: dict[tuple[str, str], dict[str, Any]] = {}
    for group in groups:
        if not isinstance(group, Mapping) or not text(group.get("id")):
            continue
        assigned = [a for a in items(group.get("assignedLicenses")) if text(a.get("skuId"))]
        if not assigned:
            continue
        group_id = group["id"]
        group_out[group_id] = {
            "tenant_id": tenant_id,
            "id": group_id,
            "display_name": text(group.get("displayName")),
            "processing_state": text(mapping(group.get("licenseProcessingState")).get("state")),
        }
        for licence in assigned:
            licences[(group_id, licence["skuId"])] = {
                "tenant_id": tenant_id,
                "group_id": group_id,
                "sku_id": licence["skuId"],
                "disabled_plans": joined(licence.get("disabledPlans")),
            }
    return list(group_out.values()), list(licences.values())


def user_row(dataset_id: int, tenant_id: int, user: Json) -> tuple[Any, ...]:
    """A users row (in `USER_COLUMNS` order, datetimes aware UTC) from one /users item with an id.

    The compiled builder of the declared stream (`sync/row_builder.py`), every property read.
    """
    rows: list[tuple[Any, ...]] = []
    _ROW_BUILDER([user], dataset_id, tenant_id, None, rows, [])
    return rows[0]


def license_rows(dataset_id: int, user: Json) -> list[tuple[Any, ...]]:
    """user_licenses rows (in `USER_LICENSE_COLUMNS` order) for one user.

    licenseAssignmentStates tells direct from group-inherited; when it is missing, the
    assignedLicenses list is taken as direct, active assignments.
    """
    rows: list[tuple[Any, ...]] = []
    _ROW_BUILDER([user], dataset_id, 0, None, [], rows)
    return rows


_ROW_BUILDER = row_builder.page_builder(row_builder.ALL_PROPERTIES, "python")


def user_id(user: Any) -> str | None:
    """The id of a /users item, or None for an item we cannot store."""
    if not isinstance(user, dict):
        return None
    uid = user.get("id")
    return uid if isinstance(uid, str) else None  # a key: kept exactly as Graph sent it
