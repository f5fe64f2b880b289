"""Ground truth of usage-based recommendations, computed from the emulator's model.

Written apart from licensewatch's engine (intelligence/recommendations) from the same rules
(docs/intelligence.md#recommendations) and the same Microsoft facts (`domain.usage`): a sync
that stores and joins the reports right must produce exactly these, for a first sync (no change
history), with the prices an admin set (or none). Each item: user_principal_name, action,
sku_part_number, target_sku_part_number, confidence.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from licensewatch.domain.sections import is_free
from licensewatch.domain.usage import (
    Capability,
    capabilities,
    hidden_plans,
    mailbox_fits,
    mailbox_quota,
)
from licensewatch.emulator.state import ASSIGNED_STATES, Product, Tenant, User, utcnow
from licensewatch.emulator.usage_model import UserActivity
from licensewatch.emulator.usage_reports import refresh_date

_LIVE = ("Enabled", "Warning")


def _plans(product: Product) -> frozenset[str]:
    return frozenset(p.name for p in product.service_plans if p.applies_to != "Company")


def _effective(product: Product, user: User) -> frozenset[str]:
    held = [
        a for a in user.assignments if a.sku_id == product.sku_id and a.state in ASSIGNED_STATES
    ]
    off = frozenset.intersection(*(frozenset(a.disabled_plans) for a in held))
    return _plans(product) - {p.name for p in product.service_plans if p.plan_id in off}


def _bought(tenant: Tenant, product: Product) -> bool:
    paid = any(
        s.sku_id == product.sku_id and s.status in _LIVE and s.total_licenses and not s.is_trial
        for s in tenant.subscriptions
    )
    return paid and product.applies_to != "Company" and not is_free(product.part_number)


def _used(activity: UserActivity, start: date) -> set[Capability]:
    used = {Capability(w) for w, d in activity.last.items() if d is not None and d >= start}
    if activity.platforms & {"windows", "mac"}:
        used.add(Capability.DESKTOP_APPS)
    if "mobile" in activity.platforms:
        used.add(Capability.MOBILE_APPS)
    if "web" in activity.platforms:
        used.add(Capability.WEB_APPS)
    return used


def _item(
    user: User, action: str, product: Product, target: Product | None, confidence: str
) -> dict[str, Any]:
    return {
        "user_principal_name": user.user_principal_name,
        "action": action,
        "sku_part_number": product.part_number,
        "target_sku_part_number": target.part_number if target else None,
        "confidence": confidence,
    }


Prices = dict[str, tuple[Decimal, str]]  # part number -> (monthly amount, currency)


class _Truth:
    def __init__(self, tenant: Tenant, period_days: int, now: datetime, prices: Prices) -> None:
        self.tenant, self.now, self.days, self.prices = tenant, now, period_days, prices
        roles = set().union(*(app.roles for app in tenant.apps.values())) if tenant.apps else set()
        self.reports = "Reports.Read.All" in roles
        self.sign_in = tenant.has_premium and "AuditLog.Read.All" in roles
        self.usable = self.reports and not tenant.usage.concealed
        self.start = refresh_date(tenant) - timedelta(days=period_days)
        # Per product once: a big world asks for them per user and candidate.
        self.plans = {sku: _plans(p) for sku, p in tenant.products.items()}
        self.caps = {sku: capabilities(plans) for sku, plans in self.plans.items()}
        self.bought = {sku: _bought(tenant, p) for sku, p in tenant.products.items()}

    def removal(self, user: User) -> str | None:
        """The confidence of removing every licence, or None."""
        if not user.account_enabled:
            return "high"  # a first sync knows no date of disabling
        seen = user.sign_in
        dates = (
            [
                d
                for d in (
                    seen.last_sign_in,
                    seen.last_non_interactive_sign_in,
                    seen.last_successful_sign_in,
                )
                if d
            ]
            if seen
            else []
        )
        created_old = user.created is None or user.created <= self.now - timedelta(days=self.days)
        if self.sign_in and not dates and created_old:
            return "high"
        activity = self.tenant.usage.users.get(user.id)
        if not self.usable or activity is None or not self._old_enough(user):
            return None
        if _used(activity, self.start) or (activity.apps_last and activity.apps_last >= self.start):
            return None
        recent = self.sign_in and dates and max(dates).date() >= self.start
        return "medium" if recent else "high"

    def _old_enough(self, user: User) -> bool:
        return user.created is None or user.created.date() < self.start

    def downgrade(self, user: User, product: Product) -> tuple[Product, str] | None:
        activity = self.tenant.usage.users.get(user.id)
        if not self.usable or activity is None or not self._old_enough(user):
            return None
        plans = _effective(product, user)
        mine = capabilities(plans)
        used = _used(activity, self.start) & mine
        if not used:
            return None
        found: list[tuple[tuple[int, Decimal, int, int, str], Product]] = []
        for target in self.tenant.products.values():
            theirs, caps = self.plans[target.sku_id], self.caps[target.sku_id]
            held = target.sku_id in user.assigned_sku_ids()
            cheaper = self._cheaper(product, target, theirs < plans)
            if (
                target is product
                or held
                or not self.bought[target.sku_id]
                or not caps
                or not theirs & plans
                or not used <= caps
                or not plans - theirs
                or not cheaper
            ):
                continue
            if Capability.EXCHANGE in mine:
                before, after = mailbox_quota(plans), mailbox_quota(theirs)
                if Capability.EXCHANGE not in caps:
                    continue
                if (
                    before
                    and after
                    and after < before
                    and not mailbox_fits(activity.mailbox_bytes, after)
                ):
                    continue
            price = self.prices.get(target.part_number)
            rank = (0, price[0]) if price else (1, Decimal(0))
            key = (*rank, -len(theirs & plans), len(theirs), target.part_number)
            found.append((key, target))
        if not found:
            return None
        target = min(found, key=lambda item: item[0])[1]
        lost = mine - capabilities(_plans(target))
        hidden = hidden_plans(plans - _plans(target))
        return target, ("high" if lost and not hidden else "medium" if lost else "low")

    def _cheaper(self, source: Product, target: Product, lesser_edition: bool) -> bool:
        mine, theirs = self.prices.get(source.part_number), self.prices.get(target.part_number)
        if mine and theirs and mine[1] == theirs[1]:
            return theirs[0] < mine[0]
        return lesser_edition

    def user_items(self, user: User) -> list[dict[str, Any]]:
        products = self.tenant.products
        held = sorted(
            (
                s
                for s in user.assigned_sku_ids()
                if s in products and not is_free(products[s].part_number)
            ),
        )
        if not held:
            return []
        confidence = self.removal(user)
        if confidence is not None:
            return [_item(user, "remove", products[s], None, confidence) for s in held]
        items = []
        for sku in held:
            product = products[sku]
            mine = _effective(product, user)
            covered = bool(_plans(product)) and any(
                other != sku
                and mine <= _effective(products[other], user)
                and (mine != _effective(products[other], user) or sku > other)
                for other in held
            )
            routes = [
                a.assigned_by_group
                for a in user.assignments
                if a.sku_id == sku and a.state in ASSIGNED_STATES
            ]
            if covered:
                items.append(_item(user, "remove_addon", product, None, "high"))
            elif None in routes and any(routes):
                items.append(_item(user, "remove_duplicate", product, None, "high"))
            else:
                down = self.downgrade(user, product)
                if down is not None:
                    items.append(_item(user, "downgrade", product, down[0], down[1]))
        return items


def expected_recommendations(
    tenant: Tenant,
    period_days: int = 90,
    now: datetime | None = None,
    prices: Prices | None = None,
) -> dict[str, Any]:
    """What a first sync must recommend (with the admin's monthly `prices`, if any), and whether
    usage was usable."""
    truth = _Truth(tenant, period_days, now or utcnow(), prices or {})
    items = [item for _, user in tenant.iter_users_from(0) for item in truth.user_items(user)]
    items.sort(key=lambda i: (i["user_principal_name"].lower(), i["sku_part_number"]))
    return {
        "usage_permission": truth.reports,
        "concealed": tenant.usage.concealed,
        "refresh_date": refresh_date(tenant).isoformat(),
        "recommendations": items,
    }
