"""The columns the recommendation facts read: plain rows, not ORM entities (100k-user tenants)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from licensewatch.storage.models import User
from licensewatch.storage.models.usage import UserUsage

USER_COLUMNS = (
    User.id,
    User.user_principal_name,
    User.display_name,
    User.account_enabled,
    User.created_at,
    User.last_sign_in_at,
    User.last_non_interactive_sign_in_at,
    User.last_successful_sign_in_at,
)
USAGE_COLUMNS = (
    UserUsage.user_principal_name,
    UserUsage.is_deleted,
    UserUsage.report_refresh_date,
    UserUsage.exchange_last,
    UserUsage.onedrive_last,
    UserUsage.sharepoint_last,
    UserUsage.teams_last,
    UserUsage.skype_last,
    UserUsage.yammer_last,
    UserUsage.apps_seen,
    UserUsage.apps_last,
    UserUsage.windows,
    UserUsage.mac,
    UserUsage.mobile,
    UserUsage.web,
    UserUsage.mailbox_seen,
    UserUsage.storage_used_bytes,
)


class UserRow(NamedTuple):
    id: str
    user_principal_name: str | None
    display_name: str | None
    account_enabled: bool | None
    created_at: datetime | None
    last_sign_in_at: datetime | None
    last_non_interactive_sign_in_at: datetime | None
    last_successful_sign_in_at: datetime | None
