"""The usage-report CSV files as Microsoft serves them: BOM, CRLF, documented columns, empty cells.

Columns: reportroot-getoffice365activeuserdetail, reportroot-getm365appuserdetail and
reportroot-getmailboxusagedetail on Microsoft Learn. With concealed names (admin/reportSettings),
user principal names and display names are replaced by a hash, as Microsoft does.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from datetime import date, timedelta

from licensewatch.domain.usage import MAILBOX_QUOTA_BYTES, capabilities
from licensewatch.emulator.state import Tenant, utcnow
from licensewatch.emulator.usage_model import APPS, PLATFORMS, WORKLOADS, UserActivity
from licensewatch.emulator.usage_seed import PlanCache, held_plans

_REPORT_NAMES = ("Exchange", "OneDrive", "SharePoint", "Skype For Business", "Yammer", "Teams")
ACTIVE_COLUMNS = (
    "Report Refresh Date",
    "User Principal Name",
    "Display Name",
    "Is Deleted",
    "Deleted Date",
    *(f"Has {n} License" for n in _REPORT_NAMES),
    *(f"{n} Last Activity Date" for n in _REPORT_NAMES),
    *(f"{n} License Assign Date" for n in _REPORT_NAMES),
    "Assigned Products",
)
_PLATFORM_NAMES = ("Windows", "Mac", "Mobile", "Web")
APP_COLUMNS = (
    "Report Refresh Date",
    "User Principal Name",
    "Last Activation Date",
    "Last Activity Date",
    "Report Period",
    *_PLATFORM_NAMES,
    *APPS,
    *(f"{app} ({platform})" for platform in _PLATFORM_NAMES for app in APPS),
)
MAILBOX_COLUMNS = (
    "Report Refresh Date",
    "User Principal Name",
    "Display Name",
    "Is Deleted",
    "Deleted Date",
    "Created Date",
    "Last Activity Date",
    "Item Count",
    "Storage Used (Byte)",
    "Issue Warning Quota (Byte)",
    "Prohibit Send Quota (Byte)",
    "Prohibit Send/Receive Quota (Byte)",
    "Deleted Item Count",
    "Deleted Item Size (Byte)",
    "Deleted Item Quota (Byte)",
    "Has Archive",
    "Report Period",
)


def refresh_date(tenant: Tenant) -> date:
    return utcnow().date() - timedelta(days=tenant.usage.refresh_lag_days)


def conceal(text: str) -> str:
    """The hash Microsoft shows instead of a name when names are concealed."""
    return hashlib.md5(text.lower().encode(), usedforsecurity=False).hexdigest().upper()


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _flag(value: bool) -> str:
    return "True" if value else "False"


def _csv(header: tuple[str, ...], rows: Iterator[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _people(tenant: Tenant) -> Iterator[tuple[str, str, UserActivity, date | None, set[str]]]:
    """(upn, display name, activity, deleted date, held workloads) of every reported user."""
    cache: PlanCache = {}
    for _, user in tenant.iter_users_from(0):
        activity = tenant.usage.users.get(user.id) or UserActivity()
        held = {c.value for c in capabilities(held_plans(tenant, user, cache))}
        yield user.user_principal_name, user.display_name, activity, None, held
    for gone in tenant.usage.deleted:
        yield gone.user_principal_name, gone.display_name, gone.activity, gone.deleted, set()


def _names(tenant: Tenant, upn: str, display: str) -> tuple[str, str]:
    return (conceal(upn), conceal(display)) if tenant.usage.concealed else (upn, display)


def _products(tenant: Tenant, upn: str) -> str:
    user = tenant.user(upn)
    if user is None:
        return ""
    names = [
        tenant.products[s].display_name.upper()
        for s in user.assigned_sku_ids()
        if s in tenant.products
    ]
    return "+".join(names)


def active_users_csv(tenant: Tenant) -> bytes:
    refresh = _day(refresh_date(tenant))

    def rows() -> Iterator[list[str]]:
        for upn, display, activity, deleted, held in _people(tenant):
            shown_upn, shown_name = _names(tenant, upn, display)
            has = [_flag(w in held) for w in WORKLOADS]
            last = [_day(activity.last.get(w)) for w in WORKLOADS]
            assigned = ["" for _ in WORKLOADS]
            yield [
                refresh,
                shown_upn,
                shown_name,
                _flag(deleted is not None),
                _day(deleted),
                *has,
                *last,
                *assigned,
                _products(tenant, upn),
            ]

    return _csv(ACTIVE_COLUMNS, rows())


def app_users_csv(tenant: Tenant, period_days: int) -> bytes:
    refresh = _day(refresh_date(tenant))

    def rows() -> Iterator[list[str]]:
        for upn, _, activity, deleted, _held in _people(tenant):
            if deleted is not None or not activity.platforms:
                continue  # people without app activity are not listed
            shown_upn = _names(tenant, upn, "")[0]
            platforms = [_flag(p in activity.platforms) for p in PLATFORMS]
            apps = [_flag(a in activity.apps) for a in APPS]
            per_platform = [
                _flag(p in activity.platforms and a in activity.apps)
                for p in PLATFORMS
                for a in APPS
            ]
            yield [
                refresh,
                shown_upn,
                _day(activity.apps_activation),
                _day(activity.apps_last),
                str(period_days),
                *platforms,
                *apps,
                *per_platform,
            ]

    return _csv(APP_COLUMNS, rows())


def mailbox_csv(tenant: Tenant, period_days: int) -> bytes:
    refresh = _day(refresh_date(tenant))

    cache: PlanCache = {}

    def rows() -> Iterator[list[str]]:
        for upn, display, activity, deleted, _held in _people(tenant):
            if activity.mailbox_bytes is None:
                continue
            user = tenant.user(upn)
            plans = held_plans(tenant, user, cache) if user else frozenset()
            quota = max((MAILBOX_QUOTA_BYTES.get(p, 0) for p in plans), default=0)
            quota = quota or MAILBOX_QUOTA_BYTES["EXCHANGE_S_STANDARD"]
            created = user.created.date() if user and user.created else None
            shown_upn, shown_name = _names(tenant, upn, display)
            yield [
                refresh,
                shown_upn,
                shown_name,
                _flag(deleted is not None),
                _day(deleted),
                _day(created),
                _day(activity.mailbox_last),
                str(activity.mailbox_items),
                str(activity.mailbox_bytes),
                str(quota * 98 // 100),
                str(quota * 99 // 100),
                str(quota),
                "0",
                "0",
                str(30 * 1024**3),
                "False",
                str(period_days),
            ]

    return _csv(MAILBOX_COLUMNS, rows())
