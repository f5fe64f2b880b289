"""What the emulator knows about how people use Microsoft 365 (the usage reports' source)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

WORKLOADS = ("exchange", "onedrive", "sharepoint", "skype", "yammer", "teams")
PLATFORMS = ("windows", "mac", "mobile", "web")
APPS = ("Outlook", "Word", "Excel", "PowerPoint", "OneNote", "Teams")


@dataclass(slots=True)
class UserActivity:
    """One user's activity: last dates per workload, app platforms and apps, mailbox size."""

    last: dict[str, date | None] = field(default_factory=dict)  # workload -> last activity
    apps_last: date | None = None
    apps_activation: date | None = None
    platforms: frozenset[str] = frozenset()  # of PLATFORMS, used in the period
    apps: frozenset[str] = frozenset()  # of APPS, used in the period
    mailbox_bytes: int | None = None  # None: no mailbox
    mailbox_items: int = 0
    mailbox_last: date | None = None


@dataclass(slots=True)
class DeletedReportUser:
    """A deleted user the reports still list (Is Deleted = True)."""

    user_principal_name: str
    display_name: str
    deleted: date
    activity: UserActivity


@dataclass(slots=True)
class TenantUsage:
    """A tenant's usage data and report settings."""

    # Report Refresh Date = today - lag: Microsoft's reports lag by a day or more.
    refresh_lag_days: int = 2
    # admin/reportSettings displayConcealedNames: rows carry hashes instead of names.
    concealed: bool = False
    users: dict[str, UserActivity] = field(default_factory=dict)  # by user id
    deleted: list[DeletedReportUser] = field(default_factory=list)
