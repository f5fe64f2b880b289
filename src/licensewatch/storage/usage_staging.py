"""Usage-report rows staged in bounded batches, then merged into `user_usage` by one statement.

The reports stream in one after the other; each row is staged as it is parsed, so a tenant's
reports are never held whole in memory. The merge gives what merging the three files in order
gave: one row per user key; a deleted user's row never hides a live one's (a key with any live
row keeps only its live rows); of the rows kept, each report's last row of the user wins.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, text

from licensewatch.storage.database import write_transaction
from licensewatch.storage.models.usage import UsageStaging

ACTIVE, APPS, MAILBOXES = 0, 1, 2
STALE_AFTER = timedelta(days=1)  # a crashed attempt's rows are swept by the tenant's next one
_STAMP = "%Y%m%dT%H%M%S"

_INSERT = insert(UsageStaging)
_MERGE = text(
    """
    WITH staged AS (
        SELECT * FROM usage_staging WHERE attempt = :attempt
    ), keys AS (
        SELECT user_key, MIN(CASE WHEN is_deleted THEN 1 ELSE 0 END) AS dead
        FROM staged GROUP BY user_key
    ), kept AS (
        SELECT s.*, ROW_NUMBER() OVER (
            PARTITION BY s.user_key, s.report ORDER BY s.seq DESC
        ) AS latest
        FROM staged s JOIN keys k ON k.user_key = s.user_key
        WHERE (CASE WHEN s.is_deleted THEN 1 ELSE 0 END) = k.dead
    )
    INSERT INTO user_usage (
        tenant_id, user_principal_name, display_name, is_deleted, report_refresh_date,
        exchange_last, onedrive_last, sharepoint_last, skype_last, yammer_last, teams_last,
        apps_seen, apps_last, windows, mac, mobile, web, apps_used,
        mailbox_seen, mailbox_last, storage_used_bytes, prohibit_send_receive_quota_bytes,
        item_count
    )
    SELECT
        :tenant, k.user_key, a.display_name, k.dead = 1, a.report_refresh_date,
        a.exchange_last, a.onedrive_last, a.sharepoint_last, a.skype_last, a.yammer_last,
        a.teams_last,
        p.user_key IS NOT NULL, p.apps_last, COALESCE(p.windows, FALSE),
        COALESCE(p.mac, FALSE), COALESCE(p.mobile, FALSE), COALESCE(p.web, FALSE), p.apps_used,
        m.user_key IS NOT NULL, m.mailbox_last, m.storage_used_bytes,
        m.prohibit_send_receive_quota_bytes, m.item_count
    FROM keys k
    LEFT JOIN kept a ON a.user_key = k.user_key AND a.report = 0 AND a.latest = 1
    LEFT JOIN kept p ON p.user_key = k.user_key AND p.report = 1 AND p.latest = 1
    LEFT JOIN kept m ON m.user_key = k.user_key AND m.report = 2 AND m.latest = 1
    """
)


def new_attempt(now: datetime) -> str:
    """A collection attempt's key: sortable by when it started, unique."""
    return f"{now:{_STAMP}}-{uuid.uuid4().hex[:16]}"


def sweep_stale(engine: Engine, tenant_pk: int, now: datetime) -> None:
    """Drop rows a crashed attempt of this tenant left (older than `STALE_AFTER`)."""
    cutoff = f"{now - STALE_AFTER:{_STAMP}}"
    with write_transaction(engine) as db:
        db.execute(
            delete(UsageStaging).where(
                UsageStaging.tenant_id == tenant_pk, UsageStaging.attempt < cutoff
            )
        )


def stage(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> None:
    """One batch of rows (each with attempt, report, seq, tenant_id, user_key), committed."""
    if rows:
        with write_transaction(engine) as db:
            db.execute(_INSERT, list(rows))


def merge(db: Connection, tenant_pk: int, attempt: str) -> int:
    """Insert the attempt's merged rows into `user_usage` (the caller cleared the tenant's)."""
    result = db.execute(_MERGE, {"attempt": attempt, "tenant": tenant_pk})
    return int(result.rowcount or 0)


def drop(db: Connection, attempt: str) -> None:
    """Remove the attempt's staged rows."""
    db.execute(delete(UsageStaging).where(UsageStaging.attempt == attempt))


def discard(engine: Engine, attempt: str) -> None:
    """Remove a failed attempt's staged rows in a transaction of their own."""
    with write_transaction(engine) as db:
        drop(db, attempt)
