"""The `lifecycle` scenario's subscriptions: lapsed SKUs with holders, trials, Deleted and Company.

Shaped after Microsoft's own examples: the subscribedSkus doc's Suspended SKU (prepaidUnits enabled
0, suspended 25, consumedUnits 14), a cancelled (LockedOut) SKU still held, paid and trial
subscriptions of one SKU, a subscription and a SKU that were deleted, a tenant-wide (appliesTo
Company) SKU and a free (viral) SKU with more holders than its nominal units.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from licensewatch.emulator.scenarios import guid
from licensewatch.emulator.state import LicenseAssignment, Product, Subscription, Tenant

SUSPENDED_SKU = "VISIOCLIENT"  # every unit Suspended: lapsed, reactivation still possible
LOCKED_OUT_SKU = "PROJECTPROFESSIONAL"  # every unit LockedOut: cancelled
TRIAL_SKU = "SPE_E5"  # paid Enabled units plus a 25-unit free trial
DELETED_SUB_SKU = "ENTERPRISEPACK"  # Enabled, Warning (grace) and a Deleted subscription
DELETED_SKU = "EMS"  # only a Deleted subscription: capabilityStatus Deleted, no unit, no holder
COMPANY_SKU = "SHAREPOINTSTORAGE"  # appliesTo Company: 1 GB units for the tenant, never assigned
FREE_SKU = "FLOW_FREE"  # viral: more holders than its nominal units
HOLDERS = {SUSPENDED_SKU: 14, LOCKED_OUT_SKU: 6, TRIAL_SKU: 5, DELETED_SUB_SKU: 5, FREE_SKU: 5}


def _hold(tenant: Tenant, sku_id: str, count: int, now: datetime) -> int:
    """Give the SKU directly to members until `count` hold it; returns how many hold it."""
    members = [u for _, u in tenant.iter_users_from(0) if u.user_type == "Member"]
    holders = sum(sku_id in u.assigned_sku_ids() for u in members)
    for user in members:
        if holders >= count:
            break
        if sku_id not in user.assigned_sku_ids():
            tenant.assign(user.id, LicenseAssignment(sku_id, None, last_updated=now))
            holders += 1
    return tenant.consumed_units().get(sku_id, 0)


def add_lifecycle(
    tenant: Tenant, rng: random.Random, now: datetime, catalog: dict[str, Product]
) -> None:
    """Replace the subscriptions of the scenario's SKUs by the lifecycle cases (after people)."""
    for part in (DELETED_SKU, COMPANY_SKU):  # added now: nobody may hold them
        tenant.products[catalog[part].sku_id] = catalog[part]
    sku = {p.part_number: p.sku_id for p in tenant.products.values()}
    held = {part: _hold(tenant, sku[part], n, now) for part, n in HOLDERS.items()}
    replaced = {sku[part] for part in (*HOLDERS, DELETED_SKU, COMPANY_SKU)}
    tenant.subscriptions = [s for s in tenant.subscriptions if s.sku_id not in replaced]

    def add(part: str, status: str, units: int, days: int, trial: bool = False) -> None:
        created = now - timedelta(days=400, seconds=rng.randrange(86400))
        moves = now + timedelta(days=days, seconds=rng.randrange(86400))
        sub = Subscription(guid(rng), guid(rng), sku[part], status, units, trial, created, moves)
        tenant.subscriptions.append(sub)

    add(SUSPENDED_SKU, "Suspended", max(25, held[SUSPENDED_SKU] + 1), 45)
    add(LOCKED_OUT_SKU, "LockedOut", held[LOCKED_OUT_SKU] + 2, 20)
    # Fewer paid units than holders, and a trial larger than the gap: spare seats are trial ones.
    add(TRIAL_SKU, "Enabled", held[TRIAL_SKU] - 2, 200)
    add(TRIAL_SKU, "Enabled", 25, 12, trial=True)
    add(DELETED_SUB_SKU, "Enabled", held[DELETED_SUB_SKU] + 4, 150)
    add(DELETED_SUB_SKU, "Warning", 3, 9)  # expired: usable in its grace period, 9 days left
    add(DELETED_SUB_SKU, "Deleted", 7, -30)
    add(DELETED_SKU, "Deleted", 10, -60)
    add(COMPANY_SKU, "Enabled", 1024, 300)
    add(FREE_SKU, "Enabled", max(held[FREE_SKU] - 3, 1), 365)
