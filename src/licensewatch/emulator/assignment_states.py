"""Put a user's licence assignment in any licenseAssignmentState, as Entra reports them.

Microsoft's values (licenseAssignmentState, Graph v1.0): state Active, ActiveWithError, Disabled
or Error; error CountViolation, MutuallyExclusiveViolation, DependencyViolation,
ProhibitedInUsageLocationViolation, UniquenessViolation, Other, or "None" when there is none.
Only Active and ActiveWithError give the user the product (and use a unit).
"""

from __future__ import annotations

import random
from datetime import datetime

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


def add_state_problems(tenant: Tenant, now: datetime) -> None:
    """Seed a messy tenant with the other states Entra reports (after `add_problems`).

    Group members whose licence failed with ProhibitedInUsageLocationViolation and Other (Error),
    a group licence kept despite a DependencyViolation (ActiveWithError), and an assignment in
    Disabled (switched off: neither held nor an error). Drawn from its own generator, so the
    rest of the seeded world does not move.
    """
    rng = random.Random(f"licensewatch:states:{tenant.tenant_id}")
    licensed = [g for g in tenant.groups.values() if g.assigned_licenses]
    members = [u for _, u in tenant.iter_users_from(0) if u.user_type == "Member"]
    bare = [u for u in members if not u.assignments]
    if not licensed or len(bare) < 3:
        return
    group = rng.choice(licensed)
    sku_id, plans = group.assigned_licenses[0]
    for user, error in zip(bare, ("ProhibitedInUsageLocationViolation", "Other"), strict=False):
        group.member_ids.append(user.id)
        tenant.assign(user.id, LicenseAssignment(sku_id, group.id, plans, "Error", error, now))
    switched_off = bare[2]
    tenant.assign(switched_off.id, LicenseAssignment(sku_id, None, (), "Disabled", "None", now))
    kept = [
        u
        for u in members
        if any(a.assigned_by_group and a.state == "Active" for a in u.assignments)
    ]
    if kept:
        user = rng.choice(kept)
        held = next(a for a in user.assignments if a.assigned_by_group and a.state == "Active")
        state = LicenseAssignment(
            held.sku_id,
            held.assigned_by_group,
            held.disabled_plans,
            "ActiveWithError",
            "DependencyViolation",
            now,
        )
        tenant.assign(user.id, state)
