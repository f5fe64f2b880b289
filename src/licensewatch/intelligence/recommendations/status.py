"""Per tenant: can usage-based recommendations be made, as of when, and what to fix if not."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from licensewatch.storage.models import Tenant
from licensewatch.storage.models.usage import UsageCollection

CONCEALED_FIX = (
    "In the Microsoft 365 admin center: Settings > Org settings > Services > Reports, clear "
    "'Display concealed user, group, and site names in all reports'; the next sync reads the "
    "names."
)
PERMISSION_FIX = (
    "In Entra ID > App registrations > <app> > API permissions, add Microsoft Graph > "
    "Application permissions > Reports.Read.All (and ReportSettings.Read.All), then click "
    "'Grant admin consent'; the next sync reads the reports."
)


@dataclass(frozen=True)
class UsageState:
    """`state`: ok | concealed | missing_permission | failed | not_collected."""

    tenant: str
    state: str
    message: str
    fix: str | None = None
    as_of: date | None = None  # the reports' Report Refresh Date
    period: str | None = None
    collected_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def per_user(self) -> bool:
        """Usage can be joined to users: usage-based rules apply."""
        return self.state == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "state": self.state,
            "message": self.message,
            "fix": self.fix,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "period": self.period,
            "collected_at": self.collected_at.isoformat() if self.collected_at else None,
            "counts": dict(self.counts),
        }


def usage_state(session: Session, tenant: Tenant) -> UsageState:
    """The tenant's usage-report state, from its last collection."""
    row = session.get(UsageCollection, tenant.id)
    if row is None:
        return UsageState(
            tenant.name,
            "not_collected",
            "usage reports not collected yet: they are read with the next sync",
        )
    common: dict[str, Any] = {
        "as_of": row.active_refresh_date if row.collected_at else None,
        "period": row.period,
        "collected_at": row.collected_at,
        "counts": dict(row.counts or {}),
    }
    if row.status == "missing_permission":
        message = "usage reports unavailable: the app lacks Reports.Read.All"
        return UsageState(tenant.name, "missing_permission", message, PERMISSION_FIX, **common)
    if row.status != "ok":
        stale = " (showing the last collected data)" if row.collected_at else ""
        message = f"{row.message or 'usage reports could not be read'}{stale}"
        return UsageState(tenant.name, "failed", message, None, **common)
    if row.concealed:
        message = (
            "user names are concealed in this tenant's reports: tenant-wide counts only, no "
            "per-user usage recommendation"
        )
        return UsageState(tenant.name, "concealed", message, CONCEALED_FIX, **common)
    as_of = row.active_refresh_date.isoformat() if row.active_refresh_date else "unknown"
    message = f"usage as of {as_of} ({row.period})"
    return UsageState(tenant.name, "ok", message, None, **common)
