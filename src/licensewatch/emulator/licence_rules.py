"""assignLicense as Entra validates it: units, usage location, group inheritance, plan rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from licensewatch.emulator.state import ASSIGNED_STATES, LicenseAssignment, Product, Tenant, User

# Service plans that cannot be enabled together for one user (Exchange Online Plan 1 and 2 and
# SharePoint Plan 1 and 2: the "conflicting service plans" of Microsoft's licensing errors).
EXCLUSIVE_FAMILIES = (
    frozenset({"EXCHANGE_S_STANDARD", "EXCHANGE_S_ENTERPRISE"}),
    frozenset({"SHAREPOINTSTANDARD", "SHAREPOINTENTERPRISE"}),
)
# A plan that needs one of these plans enabled (Defender for Office 365 needs Exchange Online).
DEPENDS_ON = {"ATP_ENTERPRISE": frozenset({"EXCHANGE_S_ENTERPRISE", "EXCHANGE_S_STANDARD"})}


class LicenceRefused(ValueError):
    """Entra refuses the request: 400 Request_BadRequest with this message."""


@dataclass(frozen=True, slots=True)
class Added:
    sku_id: str
    disabled_plans: tuple[str, ...]


def _enabled_plans(tenant: Tenant, held: dict[str, tuple[str, ...]]) -> set[str]:
    names: set[str] = set()
    for sku_id, disabled in held.items():
        product = tenant.products.get(sku_id)
        if product is not None:
            names.update(p.name for p in product.service_plans if p.plan_id not in disabled)
    return names


def _violations(names: set[str]) -> set[str]:
    found = set()
    for family in EXCLUSIVE_FAMILIES:
        both = sorted(family & names)
        if len(both) > 1:
            found.add(
                f"License assignment failed because service plans {','.join(both)} are "
                "mutually exclusive."
            )
    for plan, needs in DEPENDS_ON.items():
        if plan in names and not needs & names:
            found.add(
                f"License assignment failed because service plan {plan} depends on the "
                f"service plan(s) {','.join(sorted(needs))}."
            )
    return found


def _held(user: User) -> dict[str, tuple[str, ...]]:
    return {a.sku_id: a.disabled_plans for a in user.assignments if a.state in ASSIGNED_STATES}


def check_product(tenant: Tenant, sku_id: str) -> Product:
    product = tenant.products.get(sku_id.lower())
    if product is None or tenant.capability_status(product.sku_id) == "Deleted":
        raise LicenceRefused(f"License {sku_id} does not correspond to a valid company License.")
    if product.applies_to != "User":
        raise LicenceRefused(f"License {sku_id} is not assignable to users.")
    return product


def apply(tenant: Tenant, user: User, added: Iterable[Added], removed: Iterable[str]) -> None:
    """Validate the whole request first, then change the user (all or nothing, as Entra does)."""
    adds = list(added)
    removes = [sku.lower() for sku in removed]
    direct = {a.sku_id for a in user.assignments if a.assigned_by_group is None}
    for sku_id in removes:
        check_product(tenant, sku_id)
        if sku_id not in direct:
            if any(a.sku_id == sku_id for a in user.assignments):
                raise LicenceRefused(
                    "User license is inherited from a group membership and it cannot be removed "
                    "directly from the user."
                )
            raise LicenceRefused("User does not have a corresponding license.")
    after = _held(user)
    for sku_id in removes:
        if not any(a.sku_id == sku_id and a.assigned_by_group for a in user.assignments):
            after.pop(sku_id, None)
    if adds and not user.usage_location:
        raise LicenceRefused(
            "License assignment cannot be done for user with invalid usage location."
        )
    for item in adds:
        product = check_product(tenant, item.sku_id)
        known = {p.plan_id for p in product.service_plans}
        unknown = [p for p in item.disabled_plans if p not in known]
        if unknown:
            raise LicenceRefused(
                f"Service plan {unknown[0]} is not part of license {product.sku_id}."
            )
        if product.sku_id not in after and _free_units(tenant, product.sku_id) <= 0:
            raise LicenceRefused(
                f"Subscription for {product.part_number} has no more available licenses."
            )
        after[product.sku_id] = item.disabled_plans
    new = _violations(_enabled_plans(tenant, after)) - _violations(
        _enabled_plans(tenant, _held(user))
    )
    if new:
        raise LicenceRefused(sorted(new)[0])
    for item in adds:  # add before remove: the user never loses service in a swap
        product = check_product(tenant, item.sku_id)
        tenant.assign(user.id, LicenseAssignment(product.sku_id, None, item.disabled_plans))
    for sku_id in removes:
        tenant.unassign(user.id, sku_id)
    tenant.licence_writes[user.id] = tenant.licence_writes.get(user.id, 0) + 1


def _free_units(tenant: Tenant, sku_id: str) -> int:
    units = tenant.prepaid_units(sku_id)
    return units["enabled"] + units["warning"] - tenant.consumed_units().get(sku_id, 0)
