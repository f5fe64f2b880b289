"""Graph JSON → storage rows: the one place Graph's names become ours; odd data never raises."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from licensewatch.domain.text import clean_text
from licensewatch.storage.writers import USER_COLUMNS, USERS

# $select for /users: the ITAM fields (signInActivity is added only when the app may read it).
USER_FIELDS = (
    "id,userPrincipalName,displayName,mail,accountEnabled,userType,department,jobTitle,"
    "companyName,country,usageLocation,createdDateTime,employeeId,employeeOrgData,"
    "onPremisesSyncEnabled,assignedLicenses,licenseAssignmentStates"
)
SIGN_IN_FIELD = "signInActivity"
SIGN_IN_PERMISSION = "AuditLog.Read.All"
GROUP_FIELDS = "id,displayName,assignedLicenses,licenseProcessingState"
# Sentinel dates ("0001-01-01T00:00:00Z", DateTimeOffset.MinValue) mean "never".
_NEVER_YEAR = 1
# Graph writes the string "None" where the docs promise null.
_NO_ERROR = frozenset({"None", "none", ""})

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


def timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from Graph's ISO 8601 text; None when absent or unparsable.

    Microsoft writes "never" as "" or as DateTimeOffset.MinValue ("0001-01-01T00:00:00Z", e.g. in
    signInActivity of a user who never signed in): both are None, never a date in year 1.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.year <= _NEVER_YEAR:
        return None
    if parsed.tzinfo is UTC:  # Graph's usual "...Z"
        return parsed
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# orjson decodes JSON objects to dict: checking for dict avoids the slow ABC check of Mapping.
_EMPTY: Json = {}


def mapping(value: Any) -> Json:
    return value if isinstance(value, dict) else _EMPTY


def items(value: Any) -> list[Json]:
    """The dicts of a JSON list (anything else is ignored)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def joined(value: Any) -> str | None:
    """A list of plan ids comma-joined ("" for an empty list, None when absent)."""
    if not isinstance(value, list):
        return None
    return ",".join(str(item) for item in value if item is not None)


def license_error(value: Any) -> str | None:
    error = text(value)
    return None if error is None or error in _NO_ERROR else error


def _limits() -> tuple[tuple[int, int], ...]:
    """(index, length limit) of the text columns a user edits, from user_principal_name on."""
    limits: list[tuple[int, int]] = []
    first = USER_COLUMNS.index("user_principal_name")
    for index, name in enumerate(USER_COLUMNS[first:], start=first):
        if USERS.c[name].type.python_type is str:
            length = getattr(USERS.c[name].type, "length", None)
            limits.append((index, length if isinstance(length, int) else sys.maxsize))
    return tuple(limits)


_USER_LIMITS = _limits()


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


# The /users keys read for a row, in `USER_COLUMNS` order from user_principal_name on.
_USER_KEYS = (
    "userPrincipalName", "displayName", "mail", "accountEnabled", "userType", "department",
    "jobTitle", "companyName", "country", "usageLocation", "createdDateTime", "employeeId",
    "onPremisesSyncEnabled",
)  # fmt: skip


def user_row(dataset_id: int, tenant_id: int, user: Json) -> tuple[Any, ...]:
    """A users row (in `USER_COLUMNS` order) from one /users item that has an id."""
    # The hot path of a sync: one lookup per key and inline type checks (a call per field cost
    # as much as the rest of the row).
    upn, name, mail, enabled, kind, dept, job, company, country, usage, created, emp, on_prem = map(
        user.get, _USER_KEYS
    )
    org = user.get("employeeOrgData")
    cost_center = org.get("costCenter") if org.__class__ is dict else None
    sign_in = user.get("signInActivity")
    last = interactive = successful = None
    if sign_in.__class__ is dict:
        last = timestamp(sign_in.get("lastSignInDateTime"))
        interactive = timestamp(sign_in.get("lastNonInteractiveSignInDateTime"))
        successful = timestamp(sign_in.get("lastSuccessfulSignInDateTime"))
    row: tuple[Any, ...] = (
        dataset_id,
        user["id"],
        tenant_id,
        upn if upn.__class__ is str else None,
        name if name.__class__ is str else None,
        mail if mail.__class__ is str else None,
        enabled if enabled.__class__ is bool else None,
        kind if kind.__class__ is str else None,
        dept if dept.__class__ is str else None,
        job if job.__class__ is str else None,
        company if company.__class__ is str else None,
        country if country.__class__ is str else None,
        usage if usage.__class__ is str else None,
        timestamp(created),
        emp if emp.__class__ is str else None,
        on_prem if on_prem.__class__ is bool else None,
        cost_center if cost_center.__class__ is str else None,
        last,
        interactive,
        successful,
    )
    for index, limit in _USER_LIMITS:
        value = row[index]  # every text column is a str or None by now
        # Employees set their own department: no NUL (PostgreSQL refuses it), control or bidi
        # character is stored. isprintable() is the fast test that nearly every value passes.
        if value is None or (value.isprintable() and len(value) <= limit):
            continue
        # Longer than Entra allows: keep the row, clip the text (PostgreSQL enforces lengths).
        row = (*row[:index], clean_text(value)[:limit], *row[index + 1 :])
    return row


def license_rows(dataset_id: int, user: Json) -> list[tuple[Any, ...]]:
    """user_licenses rows (in `USER_LICENSE_COLUMNS` order) for one user.

    licenseAssignmentStates tells direct from group-inherited; when it is missing, the
    assignedLicenses list is taken as direct, active assignments.
    """
    user_id = user["id"]
    states = user.get("licenseAssignmentStates")
    rows: list[tuple[Any, ...]] = []
    if isinstance(states, list):
        for state in states:
            if state.__class__ is not dict:
                continue
            sku_id = state.get("skuId")
            if sku_id and sku_id.__class__ is str:
                group, status = state.get("assignedByGroup"), state.get("state")
                plans = state.get("disabledPlans")
                rows.append(
                    (
                        dataset_id,
                        user_id,
                        sku_id,
                        group if group and group.__class__ is str else None,
                        status if status.__class__ is str else None,
                        license_error(state.get("error")),
                        "" if plans == [] else joined(plans),  # most have none
                    )
                )
        return rows
    for licence in items(user.get("assignedLicenses")):
        sku_id = text(licence.get("skuId"))
        if sku_id:
            rows.append(
                (
                    dataset_id,
                    user_id,
                    sku_id,
                    None,
                    "Active",
                    None,
                    joined(licence.get("disabledPlans")),
                )
            )
    return rows


def user_id(user: Any) -> str | None:
    """The id of a /users item, or None for an item we cannot store."""
    if not isinstance(user, dict):
        return None
    uid = user.get("id")
    return uid if isinstance(uid, str) else None  # a key: kept exactly as Graph sent it
