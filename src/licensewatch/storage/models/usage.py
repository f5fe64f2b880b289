"""Tables for Microsoft 365 usage reports: the last collection per tenant and per-user activity."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from licensewatch.storage.models.base import Base


class UsageCollection(Base):
    """A tenant's last usage-report collection: when, its outcome, concealment, tenant-wide counts.

    `status`: ok | missing_permission | failed (the last attempt); `collected_at` is the last
    success, so a failed attempt never hides the data that is still stored.
    """

    __tablename__ = "usage_collections"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(5))  # D30 | D90 | D180
    attempted_at: Mapped[datetime]
    collected_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(30))
    message: Mapped[str | None] = mapped_column(Text)
    # True: report rows carry hashed names (never joined to users); None: not known.
    concealed: Mapped[bool | None] = mapped_column(Boolean)
    # Whether ReportSettings.Read.All answered (False: concealment was inferred from the rows).
    settings_readable: Mapped[bool | None] = mapped_column(Boolean)
    active_refresh_date: Mapped[date | None] = mapped_column(Date)
    apps_refresh_date: Mapped[date | None] = mapped_column(Date)
    mailbox_refresh_date: Mapped[date | None] = mapped_column(Date)
    # Tenant-wide counts that need no join (they stay right when names are concealed).
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class UserUsage(Base):
    """One user's activity from the usage reports, keyed by the lower-cased userPrincipalName."""

    __tablename__ = "user_usage"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    user_principal_name: Mapped[str] = mapped_column(String(400), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(400))
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    report_refresh_date: Mapped[date | None] = mapped_column(Date)
    exchange_last: Mapped[date | None] = mapped_column(Date)
    onedrive_last: Mapped[date | None] = mapped_column(Date)
    sharepoint_last: Mapped[date | None] = mapped_column(Date)
    skype_last: Mapped[date | None] = mapped_column(Date)
    yammer_last: Mapped[date | None] = mapped_column(Date)
    teams_last: Mapped[date | None] = mapped_column(Date)
    # getM365AppUserDetail: the last app activity and the platforms used in the period.
    apps_seen: Mapped[bool] = mapped_column(Boolean, default=False)
    apps_last: Mapped[date | None] = mapped_column(Date)
    windows: Mapped[bool] = mapped_column(Boolean, default=False)
    mac: Mapped[bool] = mapped_column(Boolean, default=False)
    mobile: Mapped[bool] = mapped_column(Boolean, default=False)
    web: Mapped[bool] = mapped_column(Boolean, default=False)
    apps_used: Mapped[str | None] = mapped_column(String(200))  # comma-joined app names
    # getMailboxUsageDetail
    mailbox_seen: Mapped[bool] = mapped_column(Boolean, default=False)
    mailbox_last: Mapped[date | None] = mapped_column(Date)
    storage_used_bytes: Mapped[int | None] = mapped_column(BigInteger)
    prohibit_send_receive_quota_bytes: Mapped[int | None] = mapped_column(BigInteger)
    item_count: Mapped[int | None] = mapped_column(Integer)


class RecommendationExclusion(Base):
    """A user (by UPN) or a licensed group (by id) that recommendations leave alone."""

    __tablename__ = "recommendation_exclusions"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # user | group
    key: Mapped[str] = mapped_column(String(400), primary_key=True)  # lower-cased UPN | group id
    label: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime]


class UsageStaging(Base):
    """A report row staged while its file streams in, until the collection merges all three.

    Keyed by the collection attempt (`<UTC timestamp>-<random>`, so a crashed attempt's rows can
    be swept by age), the report (0 active users, 1 apps, 2 mailboxes) and the row's place in
    its file (a later row of the same user wins, as in the reports). Only the merge reads it.
    """

    __tablename__ = "usage_staging"

    attempt: Mapped[str] = mapped_column(String(40), primary_key=True)
    report: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_key: Mapped[str] = mapped_column(String(400))  # lower-cased UPN
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    display_name: Mapped[str | None] = mapped_column(String(400))
    report_refresh_date: Mapped[date | None] = mapped_column(Date)
    exchange_last: Mapped[date | None] = mapped_column(Date)
    onedrive_last: Mapped[date | None] = mapped_column(Date)
    sharepoint_last: Mapped[date | None] = mapped_column(Date)
    skype_last: Mapped[date | None] = mapped_column(Date)
    yammer_last: Mapped[date | None] = mapped_column(Date)
    teams_last: Mapped[date | None] = mapped_column(Date)
    apps_last: Mapped[date | None] = mapped_column(Date)
    windows: Mapped[bool | None] = mapped_column(Boolean)
    mac: Mapped[bool | None] = mapped_column(Boolean)
    mobile: Mapped[bool | None] = mapped_column(Boolean)
    web: Mapped[bool | None] = mapped_column(Boolean)
    apps_used: Mapped[str | None] = mapped_column(String(200))
    mailbox_last: Mapped[date | None] = mapped_column(Date)
    storage_used_bytes: Mapped[int | None] = mapped_column(BigInteger)
    prohibit_send_receive_quota_bytes: Mapped[int | None] = mapped_column(BigInteger)
    item_count: Mapped[int | None] = mapped_column(Integer)
