"""Put a user's licence assignment in any licenseAssignmentState, as Entra reports them.

Microsoft's values (licenseAssignmentState, Graph v1.0): state Active, ActiveWithError, Disabled
or Error; error CountViolation, MutuallyExclusiveViolation, DependencyViolation,
ProhibitedInUsageLocationViolation, UniquenessViolation, Other, or "None" when there is none.
Only Active and ActiveWithError give the user the product (and use a unit).
"""

from __future__ import annotations

from licensewatch.emulator import mutations
from licensewatch.emulator.state import LicenseAssignment, Tenant, utcnow

STATES = ("Active", "ActiveWithError", "Disabled", "Error")
ERRORS = (
    "None",
    "CountViolation",
    "MutuallyExclusiveViolation",
    "DependencyViolation",
    "ProhibitedInUsageLocationViolation",
    "UniquenessViolation",
    "Other",
)


def set_state(
    tenant: Tenant,
    user_key: str,
    sku: str,
    state: str,
    error: str = "None",
    group: str | None = None,
) -> LicenseAssignment:
    """Set (or create) the user's assignment of a SKU, direct or through `group`, in a state."""
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}")
    if error not in ERRORS:
        raise ValueError(f"error must be one of {', '.join(ERRORS)}")
    user, product = mutations.find_user(tenant, user_key), mutations.resolve_sku(tenant, sku)
    group_id = mutations.find_group(tenant, group).id if group is not None else None
    plans: tuple[str, ...] = ()
    for a in user.assignments:
        if a.sku_id == product.sku_id and a.assigned_by_group == group_id:
            plans = a.disabled_plans
    assignment = LicenseAssignment(product.sku_id, group_id, plans, state, error, utcnow())
    tenant.assign(user.id, assignment)
    return assignment
