"""Ground truth of an emulated tenant: the facts a correct collection must reproduce."""

from __future__ import annotations

from typing import Any

from licensewatch.emulator.state import ASSIGNED_STATES, Tenant, utcnow


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
    - ``users.never_signed_in``: users without any recorded sign-in (served as null, or as
      Microsoft's "0001-01-01T00:00:00Z" / "" sentinels): "never", not "inactive".
    - ``groups``: licensed groups with their SKUs (part numbers) and member count.
    - ``apps``: client id, consented roles, valid and expired secret counts (never secret values).
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
    }
