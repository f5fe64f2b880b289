"""Seeded usage for every scenario: who is active where, mailbox sizes, report settings, consent.

A separate generator per tenant (keyed by its id), so adding usage leaves every other seeded fact
as it was. Profiles give each licensed user a plausible pattern (inactive, web and Teams only,
mobile, web and files, everything); a user is active only in what their licences allow.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from licensewatch.domain.usage import GB, Capability, capabilities
from licensewatch.emulator.scenarios import guid
from licensewatch.emulator.state import ASSIGNED_STATES, Product, Subscription, Tenant, User
from licensewatch.emulator.usage_model import DeletedReportUser, UserActivity

REPORT_ROLES = frozenset({"Reports.Read.All", "ReportSettings.Read.All"})
# Cheaper suites some scenarios buy spare seats of: what downgrades move people to.
DOWNGRADE_TARGETS = {"enterprise": ("STANDARDPACK", "DESKLESSPACK"), "messy": ("STANDARDPACK",)}
_C = Capability
_PROFILES: dict[str, frozenset[Capability]] = {
    "inactive": frozenset(),
    "web_light": frozenset({_C.EXCHANGE, _C.TEAMS, _C.WEB_APPS}),
    "mobile": frozenset({_C.EXCHANGE, _C.TEAMS, _C.MOBILE_APPS}),
    "web_mid": frozenset({_C.EXCHANGE, _C.SHAREPOINT, _C.ONEDRIVE, _C.TEAMS, _C.WEB_APPS}),
    "full": frozenset(Capability) - {_C.YAMMER},
}
_MAILBOX_GB = {
    "inactive": (0.05, 0.5),
    "web_light": (0.2, 1.5),  # fits a 2 GB kiosk mailbox
    "mobile": (0.2, 1.5),
    "web_mid": (2.5, 40.0),  # needs Exchange Plan 1 or more
    "full": (1.0, 80.0),
}


PlanCache = dict[tuple[tuple[str, tuple[str, ...], str], ...], frozenset[str]]


def held_plans(tenant: Tenant, user: User, cache: PlanCache | None = None) -> frozenset[str]:
    """Service plan names the user really has (held SKUs, less plans off in every assignment).

    `cache` keeps the answer per assignment pattern: most users share a few (300k-user worlds).
    """
    key = tuple(sorted((a.sku_id, a.disabled_plans, a.state) for a in user.assignments))
    if cache is not None and key in cache:
        return cache[key]
    names: set[str] = set()
    for sku_id in user.assigned_sku_ids():
        product = tenant.products.get(sku_id)
        if product is None:
            continue
        held = [a for a in user.assignments if a.sku_id == sku_id and a.state in ASSIGNED_STATES]
        off = frozenset.intersection(*(frozenset(a.disabled_plans) for a in held))
        names |= {p.name for p in product.service_plans if p.applies_to != "Company"} - {
            p.name for p in product.service_plans if p.plan_id in off
        }
    found = frozenset(names)
    if cache is not None:
        cache[key] = found
    return found


def _profile(rng: random.Random, user: User, now: datetime) -> str:
    seen = user.sign_in.last_sign_in if user.sign_in else None
    stale = seen is None or now - seen > timedelta(days=90)
    if stale and rng.random() < 0.7:
        return "inactive"
    r = rng.random()
    for name, upto in (("inactive", 0.08), ("web_light", 0.35), ("mobile", 0.5), ("web_mid", 0.7)):
        if r < upto:
            return name
    return "full"


def _activity(
    rng: random.Random, profile: str, caps: frozenset[Capability], refresh: date
) -> UserActivity:
    used = _PROFILES[profile] & caps
    activity = UserActivity()
    for workload in ("exchange", "onedrive", "sharepoint", "skype", "yammer", "teams"):
        if Capability(workload) in used:
            activity.last[workload] = refresh - timedelta(days=rng.randrange(0, 30))
        elif Capability(workload) in caps and profile == "inactive" and rng.random() < 0.5:
            activity.last[workload] = refresh - timedelta(days=rng.randrange(200, 400))
        else:
            activity.last[workload] = None
    platforms: set[str] = set()
    if _C.DESKTOP_APPS in used:
        platforms.add("mac" if rng.random() < 0.2 else "windows")
    if _C.MOBILE_APPS in used:
        platforms.add("mobile")
    if _C.WEB_APPS in used:
        platforms.add("web")
    activity.platforms = frozenset(platforms)
    if platforms:
        activity.apps = frozenset(
            {"Outlook", "Teams"} | ({"Word", "Excel"} if _C.DESKTOP_APPS in used else set())
        )
        activity.apps_last = refresh - timedelta(days=rng.randrange(0, 30))
        activity.apps_activation = refresh - timedelta(days=rng.randrange(100, 700))
    if _C.EXCHANGE in caps:
        low, high = _MAILBOX_GB[profile]
        activity.mailbox_bytes = int(rng.uniform(low, high) * GB)
        activity.mailbox_items = activity.mailbox_bytes // 60_000
        activity.mailbox_last = activity.last.get("exchange")
    return activity


def _add_targets(tenant: Tenant, scenario: str, now: datetime, catalog: dict[str, Product]) -> None:
    rng = random.Random(f"usage-targets:{tenant.tenant_id}")
    for part in DOWNGRADE_TARGETS.get(scenario, ()):
        product = catalog[part]
        if product.sku_id in tenant.products:
            continue
        tenant.products[product.sku_id] = product
        created = now - timedelta(days=rng.randrange(100, 600))
        renews = now + timedelta(days=rng.randrange(30, 300))
        units = rng.randrange(5, 15)
        sub = Subscription(
            guid(rng), guid(rng), product.sku_id, "Enabled", units, False, created, renews
        )
        tenant.subscriptions.append(sub)


def add_usage(
    tenant: Tenant, scenario: str, index: int, now: datetime, catalog: dict[str, Product]
) -> None:
    """Usage, report settings and report permissions for one seeded tenant."""
    _add_targets(tenant, scenario, now, catalog)
    rng = random.Random(f"usage:{tenant.tenant_id}")
    usage = tenant.usage
    # MSP customers differ: concealed names (Microsoft's default since 2021), no report consent.
    usage.concealed = scenario == "msp" and index % 2 == 1
    for app in tenant.apps.values():
        if scenario == "msp" and index % 5 == 2:
            continue  # this customer granted no report permission: a 403 on every report
        roles = REPORT_ROLES if not (scenario == "msp" and index % 5 == 3) else {"Reports.Read.All"}
        app.roles.update(roles)
    refresh = now.date() - timedelta(days=usage.refresh_lag_days)
    cache: PlanCache = {}
    for _, user in tenant.iter_users_from(0):
        caps = capabilities(held_plans(tenant, user, cache))
        profile = _profile(rng, user, now) if caps else "inactive"
        usage.users[user.id] = _activity(rng, profile, caps, refresh)
    gone = UserActivity(last={"exchange": refresh - timedelta(days=40)}, mailbox_bytes=3 * GB)
    gone.mailbox_last = gone.last["exchange"]
    usage.deleted.append(
        DeletedReportUser(
            f"former.employee@{tenant.domain}",
            "Former Employee",
            refresh - timedelta(days=12),
            gone,
        )
    )
