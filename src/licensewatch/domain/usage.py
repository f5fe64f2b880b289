"""Usage signals as data: report periods, what each service plan lets a user do, mailbox quotas.

A recommendation compares products by these *capabilities* (what a usage report can show was
used), never by hard-coded SKU pairs: a product's capabilities are those of its service plans,
read from the tenant's subscribedSkus (or Microsoft's product CSV). A plan missing from
`PLAN_CAPABILITIES` is one no usage report can see (Teams Phone, Defender, Entra ID P2, ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Period(StrEnum):
    """The report periods a collection may ask for (getOffice365ActiveUserDetail's `period`)."""

    D30 = "D30"
    D90 = "D90"
    D180 = "D180"

    @property
    def days(self) -> int:
        return int(self.value[1:])


DEFAULT_PERIOD = Period.D90


def parse_period(text: str) -> Period:
    """D30, D90 or D180 (case-insensitive; `90` means D90)."""
    value = text.strip().upper()
    if value.isdigit():
        value = f"D{value}"
    try:
        return Period(value)
    except ValueError:
        raise ValueError(f"usage period {text!r} must be D30, D90 or D180") from None


class Capability(StrEnum):
    """Something a usage report shows a user did (the report's column in the comment)."""

    EXCHANGE = "exchange"  # Exchange Last Activity Date
    ONEDRIVE = "onedrive"  # OneDrive Last Activity Date
    SHAREPOINT = "sharepoint"  # SharePoint Last Activity Date
    TEAMS = "teams"  # Teams Last Activity Date
    SKYPE = "skype"  # Skype For Business Last Activity Date
    YAMMER = "yammer"  # Yammer Last Activity Date
    DESKTOP_APPS = "desktop_apps"  # getM365AppUserDetail: Windows or Mac
    MOBILE_APPS = "mobile_apps"  # getM365AppUserDetail: Mobile
    WEB_APPS = "web_apps"  # getM365AppUserDetail: Web


LABELS = {
    Capability.EXCHANGE: "Exchange (mail)",
    Capability.ONEDRIVE: "OneDrive",
    Capability.SHAREPOINT: "SharePoint",
    Capability.TEAMS: "Teams",
    Capability.SKYPE: "Skype for Business",
    Capability.YAMMER: "Viva Engage (Yammer)",
    Capability.DESKTOP_APPS: "desktop Office apps",
    Capability.MOBILE_APPS: "mobile Office apps",
    Capability.WEB_APPS: "Office for the web",
}

_C = Capability
# Service plan name -> what it lets the user do that a report can see (Microsoft's plan names from
# "Product names and service plan identifiers for licensing").
PLAN_CAPABILITIES: dict[str, frozenset[Capability]] = {
    "EXCHANGE_S_ENTERPRISE": frozenset({_C.EXCHANGE}),
    "EXCHANGE_S_STANDARD": frozenset({_C.EXCHANGE}),
    "EXCHANGE_S_DESKLESS": frozenset({_C.EXCHANGE}),
    "EXCHANGE_S_ESSENTIALS": frozenset({_C.EXCHANGE}),
    "SHAREPOINTENTERPRISE": frozenset({_C.SHAREPOINT, _C.ONEDRIVE}),
    "SHAREPOINTSTANDARD": frozenset({_C.SHAREPOINT, _C.ONEDRIVE}),
    "SHAREPOINTDESKLESS": frozenset({_C.SHAREPOINT, _C.ONEDRIVE}),
    "ONEDRIVE_BASIC": frozenset({_C.ONEDRIVE}),
    "TEAMS1": frozenset({_C.TEAMS}),
    "MCOSTANDARD": frozenset({_C.SKYPE}),
    "YAMMER_ENTERPRISE": frozenset({_C.YAMMER}),
    # Microsoft 365 Apps (for enterprise / for business) include the mobile apps.
    "OFFICESUBSCRIPTION": frozenset({_C.DESKTOP_APPS, _C.MOBILE_APPS}),
    "OFFICE_BUSINESS": frozenset({_C.DESKTOP_APPS, _C.MOBILE_APPS}),
    "OFFICEMOBILE_SUBSCRIPTION": frozenset({_C.MOBILE_APPS}),
    "SHAREPOINTWAC": frozenset({_C.WEB_APPS}),
}

GB = 1024**3
# Mailbox size (ProhibitSendReceiveQuota) each Exchange plan gives (Exchange Online limits).
MAILBOX_QUOTA_BYTES: dict[str, int] = {
    "EXCHANGE_S_ENTERPRISE": 100 * GB,
    "EXCHANGE_S_STANDARD": 50 * GB,
    "EXCHANGE_S_ESSENTIALS": 50 * GB,
    "EXCHANGE_S_DESKLESS": 2 * GB,
}
# A mailbox "fits" a smaller plan when it uses at most this share of the smaller quota.
MAILBOX_HEADROOM = 0.9


def capabilities(plan_names: Iterable[str]) -> frozenset[Capability]:
    """Everything the plans let a user do that a usage report can show."""
    found: set[Capability] = set()
    for name in plan_names:
        found |= PLAN_CAPABILITIES.get(name, frozenset())
    return frozenset(found)


def hidden_plans(plan_names: Iterable[str]) -> list[str]:
    """The plans no usage report can see (their use cannot be judged), sorted."""
    return sorted(name for name in plan_names if name not in PLAN_CAPABILITIES)


def mailbox_quota(plan_names: Iterable[str]) -> int | None:
    """The largest mailbox the plans give, or None without an Exchange mailbox plan."""
    quotas = [MAILBOX_QUOTA_BYTES[n] for n in plan_names if n in MAILBOX_QUOTA_BYTES]
    return max(quotas) if quotas else None


def mailbox_fits(used_bytes: int | None, quota_bytes: int | None) -> bool:
    """True when a mailbox of `used_bytes` fits a quota with headroom (unknown size: no)."""
    if quota_bytes is None or used_bytes is None:
        return False
    return used_bytes <= quota_bytes * MAILBOX_HEADROOM


def size_text(value: int | None) -> str:
    """Bytes as `1.5 GB` / `820 MB` (evidence and tables)."""
    if value is None:
        return "unknown"
    if value >= GB:
        return f"{value / GB:.1f} GB"
    return f"{value / 1024**2:.0f} MB"
