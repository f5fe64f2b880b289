"""Ground truth of an emulated tenant: the facts a correct collection must reproduce."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from licensewatch.emulator.products import FREE_UNITS
from licensewatch.emulator.state import ASSIGNED_STATES, Product, Subscription, Tenant, utcnow
from licensewatch.emulator.usage_truth import expected_recommendations

_USABLE = ("Enabled", "Warning")


def _second(value: datetime | None) -> str | None:
    """ISO 8601 with offset, in whole seconds as Graph serves dates."""
    return value.replace(microsecond=0).isoformat() if value else None


def _meaning(product: Product, subs: list[Subscription], consumed: int) -> dict[str, Any]:
    """What the SKU's units mean to an admin, from its subscriptions (never through Graph)."""
    live = [s for s in subs if s.status in _USABLE]
    paid = sum(s.total_licenses for s in live if not s.is_trial)
    trial = sum(s.total_licenses for s in live if s.is_trial)
    lapsed = sum(s.total_licenses for s in subs if s.status in ("Suspended", "LockedOut"))
    if product.applies_to == "Company":
        section = "company"  # tenant-wide units: never seats
    elif product.part_number in FREE_UNITS:
        section = "free"  # served with a fixed number of units nobody bought
    else:
        section = "paid"
    beyond = max(consumed - paid - trial, 0)  # holders beyond the usable units
    # Holders of units that were not renewed: all of them when no unit is usable any more.
    lapsed_holders = beyond if not live else min(beyond, lapsed)
    renewals = [(s.next_lifecycle, s.status == "Warning") for s in live if not s.is_trial]
    renewals = [(when, grace) for when, grace in renewals if when is not None]
    first = min(renewals, key=lambda r: (r[0], not r[1])) if renewals else None
    trial_ends = [s.next_lifecycle for s in live if s.is_trial and s.next_lifecycle]
    counted = section == "paid"
    return {
        "section": section,
        "purchased": paid,
        "grace": sum(s.total_licenses for s in live if s.status == "Warning" and not s.is_trial),
        "trial": trial,
        # Paid seats are used first, so spare ones are trial seats first: never money wasted.
        "unassigned": max(paid - consumed, 0) if counted else 0,
        "lapsed_holders": lapsed_holders if counted else 0,
        "over_assigned_units": beyond - lapsed_holders if counted else 0,
        "next_renewal": _second(first[0]) if first else None,
        "renewal_in_grace": bool(first and first[1]),
        "trial_ends": _second(min(trial_ends)) if trial_ends else None,
    }


def _blank() -> dict[str, Any]:
    return {
        "direct": 0,
        "via_group": 0,
        "direct_and_group": 0,
        "errors": {},
        "disabled_assignments": 0,
        "disabled_holders": 0,
        "guest_holders": 0,
    }


def ground_truth(tenant: Tenant) -> dict[str, Any]:
    """JSON-ready facts about a tenant, computed from the model (never through Graph).

    Definitions (live users only; deleted users are gone):

    - ``users.total``: users; ``members``/``guests`` by userType; ``disabled``: accountEnabled
      false; ``licensed``: holding at least one SKU; ``unlicensed``: holding none. A user *holds* a
      SKU when one of its assignments of that SKU is in an assigned state (Active, ActiveWithError).
    - per SKU (every subscribed product, by skuPartNumber):
      ``enabled``/``warning``/``suspended``/``locked_out``: prepaidUnits, the units of the SKU's
      subscriptions summed by status (Deleted ones excluded); ``consumed``: users holding the SKU
      (= consumedUnits); ``direct``: users holding it through a direct assignment; ``via_group``:
      users holding it through at least one group; ``direct_and_group``: users counted in both, so
      ``consumed == direct + via_group - direct_and_group``; ``errors``: failed assignments of the
      SKU (state Error), counted by error code; ``disabled_assignments``: assignments in state
      Disabled (switched off: neither held nor an error); ``disabled_holders``,
      ``guest_holders``: holders with accountEnabled false / userType Guest; ``available``:
      enabled + warning − consumed (negative when over-assigned); ``subscriptions``: id, status,
      units, isTrial.
    - per SKU, what the units mean (docs/intelligence.md): ``section``: company (appliesTo
      Company), free (a viral SKU with fixed units) or paid; ``purchased``: units of paid Enabled
      and Warning subscriptions, of which ``grace`` in Warning; ``trial``: units of trial Enabled
      and Warning subscriptions; for paid SKUs only, ``unassigned``: paid units nobody holds (spare
      units are trial units first), ``lapsed_holders``: holders beyond the usable units whose units
      are Suspended or LockedOut (every one of them when no subscription is usable),
      ``over_assigned_units``: the holders beyond those; ``next_renewal``: the earliest
      nextLifecycleDateTime of a paid Enabled or Warning subscription (``renewal_in_grace``: a
      Warning one's), ``trial_ends``: a trial's.
    - ``users.never_signed_in``: users without any recorded sign-in (served as null, or as
      Microsoft's "0001-01-01T00:00:00Z" / "" sentinels): "never", not "inactive".
    - ``groups``: licensed groups with their SKUs (part numbers) and member count.
    - ``licence_writes``: per user id, the assignLicense calls that changed the user.
    - ``apps``: client id, consented roles, valid and expired secret counts (never secret values).
    - ``usage``: the usage-report facts and the recommendations a first sync without prices
      must make (emulator/usage_truth.py).
    """
    products = tenant.products
    per_sku: dict[str, dict[str, Any]] = {sku: _blank() for sku in products}
    users = {"total": 0, "members": 0, "guests": 0, "disabled": 0, "licensed": 0, "unlicensed": 0}
    users["never_signed_in"] = 0
    for _, user in tenant.iter_users_from(0):
        guest = user.user_type == "Guest"
        users["total"] += 1
        users["guests" if guest else "members"] += 1
        users["disabled"] += not user.account_enabled
        seen = user.sign_in
        dates = (seen.last_sign_in, seen.last_non_interactive_sign_in) if seen else ()
        users["never_signed_in"] += not any((*dates, seen and seen.last_successful_sign_in))
        direct: set[str] = set()
        grouped: set[str] = set()
        for a in user.assignments:
            facts = per_sku.setdefault(a.sku_id, _blank())
            if a.state in ASSIGNED_STATES:
                (grouped if a.assigned_by_group else direct).add(a.sku_id)
            elif a.state == "Disabled":
                facts["disabled_assignments"] += 1
            else:
                facts["errors"][a.error] = facts["errors"].get(a.error, 0) + 1
        held = direct | grouped
        users["licensed" if held else "unlicensed"] += 1
        for sku in held:
            facts = per_sku[sku]
            facts["direct"] += sku in direct
            facts["via_group"] += sku in grouped
            facts["direct_and_group"] += sku in direct and sku in grouped
            facts["disabled_holders"] += not user.account_enabled
            facts["guest_holders"] += guest
    consumed = tenant.consumed_units()
    skus = []
    for sku, product in sorted(products.items(), key=lambda item: item[1].part_number):
        units = tenant.prepaid_units(sku)
        used = consumed.get(sku, 0)
        skus.append(
            {
                "sku_id": sku,
                "sku_part_number": product.part_number,
                "capability_status": tenant.capability_status(sku),
                "enabled": units["enabled"],
                "warning": units["warning"],
                "suspended": units["suspended"],
                "locked_out": units["lockedOut"],
                "consumed": used,
                "available": units["enabled"] + units["warning"] - used,
                **_meaning(product, [s for s in tenant.subscriptions if s.sku_id == sku], used),
                **per_sku[sku],
                "subscriptions": [
                    {
                        "id": s.id,
                        "status": s.status,
                        "units": s.total_licenses,
                        "is_trial": s.is_trial,
                    }
                    for s in tenant.subscriptions
                    if s.sku_id == sku
                ],
            }
        )
    now = utcnow()
    return {
        "tenant_id": tenant.tenant_id,
        "domain": tenant.domain,
        "display_name": tenant.display_name,
        "has_premium": tenant.has_premium,
        "version": tenant.version,
        "users": users,
        "skus": skus,
        "groups": [
            {
                "id": g.id,
                "display_name": g.display_name,
                "skus": [products[s].part_number for s, _ in g.assigned_licenses if s in products],
                "members": len(g.member_ids),
            }
            for g in tenant.groups.values()
            if g.assigned_licenses
        ],
        "licence_writes": dict(sorted(tenant.licence_writes.items())),
        "apps": [
            {
                "client_id": app.client_id,
                "roles": sorted(app.roles),
                "valid_secrets": sum(s.expires > now for s in app.secrets),
                "expired_secrets": sum(s.expires <= now for s in app.secrets),
                "certificates": len(app.certificates),
            }
            for app in tenant.apps.values()
        ],
        "usage": expected_recommendations(tenant),
    }
