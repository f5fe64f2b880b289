"""State → Graph JSON for the small resources: organization, SKUs, subscriptions, groups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from licensewatch.emulator.graph.query import EntitySpec, FilterProp
from licensewatch.emulator.graph.serialize import iso
from licensewatch.emulator.state import Group, Product, Subscription, Tenant


def organization(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.tenant_id,
        "deletedDateTime": None,
        "businessPhones": [],
        "city": None,
        "country": None,
        "countryLetterCode": "US",
        "createdDateTime": iso(tenant.created),
        "displayName": tenant.display_name,
        "onPremisesSyncEnabled": None,
        "preferredLanguage": "en",
        "tenantType": "AAD",
        "assignedPlans": [],
        "verifiedDomains": [
            {
                "capabilities": "Email, OfficeCommunicationsOnline",
                "isDefault": True,
                "isInitial": True,
                "name": tenant.domain,
                "type": "Managed",
            }
        ],
    }


def _plans(product: Product, key: str = "servicePlans") -> dict[str, Any]:
    return {
        key: [
            {
                "servicePlanId": plan.plan_id,
                "servicePlanName": plan.name,
                "provisioningStatus": "Success",
                "appliesTo": plan.applies_to,
                **({"servicePlanType": plan.service_type} if plan.service_type else {}),
            }
            for plan in product.service_plans
        ]
    }


def subscribed_sku_id(tenant: Tenant, sku_id: str) -> str:
    return f"{tenant.tenant_id}_{sku_id}"


def subscribed_sku(tenant: Tenant, product: Product, consumed: dict[str, int]) -> dict[str, Any]:
    account = tenant.domain.split(".", 1)[0]
    return {
        "accountId": tenant.tenant_id,
        "accountName": account,
        "appliesTo": product.applies_to,
        "capabilityStatus": tenant.capability_status(product.sku_id),
        "consumedUnits": consumed.get(product.sku_id, 0),
        "id": subscribed_sku_id(tenant, product.sku_id),
        "prepaidUnits": tenant.prepaid_units(product.sku_id),
        **_plans(product),
        "skuId": product.sku_id,
        "skuPartNumber": product.part_number,
        "subscriptionIds": [
            s.id
            for s in tenant.subscriptions
            if s.sku_id == product.sku_id and s.status != "Deleted"
        ],
    }


def subscription(tenant: Tenant, sub: Subscription) -> dict[str, Any]:
    product = tenant.products.get(sub.sku_id)
    return {
        "id": sub.id,
        "commerceSubscriptionId": sub.commerce_subscription_id,
        "createdDateTime": iso(sub.created),
        "isTrial": sub.is_trial,
        "nextLifecycleDateTime": iso(sub.next_lifecycle),
        "ownerId": sub.owner_id,
        "ownerTenantId": None,
        "ownerType": "User" if sub.owner_id else None,
        **(_plans(product, "serviceStatus") if product else {"serviceStatus": []}),
        "skuId": sub.sku_id,
        "skuPartNumber": product.part_number if product else None,
        "status": sub.status,
        "totalLicenses": sub.total_licenses,
    }


GroupGetter = Callable[[Group], Any]
_GROUP_GETTERS: dict[str, GroupGetter] = {
    "id": lambda g: g.id,
    "deletedDateTime": lambda g: None,
    "classification": lambda g: None,
    "createdDateTime": lambda g: iso(g.created),
    "description": lambda g: None,
    "displayName": lambda g: g.display_name,
    "groupTypes": lambda g: [],
    "mail": lambda g: None,
    "mailEnabled": lambda g: False,
    "mailNickname": lambda g: g.mail_nickname,
    "securityEnabled": lambda g: True,
    "visibility": lambda g: None,
    "assignedLicenses": lambda g: [
        {"disabledPlans": list(plans), "skuId": sku} for sku, plans in g.assigned_licenses
    ],
    "licenseProcessingState": lambda g: {"state": "ProcessingComplete"},
}

GROUP_SPEC = EntitySpec(
    "group",
    tuple(_GROUP_GETTERS),
    tuple(
        name
        for name in _GROUP_GETTERS
        if name not in {"assignedLicenses", "licenseProcessingState"}
    ),
    {
        "displayName": FilterProp(
            lambda g: g.display_name, "str", frozenset({"eq", "startswith"}), frozenset({"ne"})
        ),
        "mailNickname": FilterProp(
            lambda g: g.mail_nickname, "str", frozenset({"eq", "startswith"})
        ),
        "assignedLicenses": FilterProp(
            lambda g: [sku.lower() for sku, _ in g.assigned_licenses],
            "licenses",
            frozenset({"any"}),
            frozenset({"count_eq", "count_ne"}),
        ),
    },
)


def group(g: Group, select: tuple[str, ...]) -> dict[str, Any]:
    return {name: _GROUP_GETTERS[name](g) for name in select}
