"""Usage-report rows staged in bounded batches, then merged into `user_usage` by one statement.

The reports stream in one after the other; each row is staged as it is parsed, so a tenant's
reports are never held whole in memory. The merge gives what merging the three files in order
gave: one row per user key; a deleted user's row never hides a live one's (a key with any live
row keeps only its live rows); of the rows kept, each report's last row of the user wins.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, text

from licensewatch.storage.database import write_transaction
from licensewatch.storage.models.usage import UsageStaging
from licensewatch.storage.writers import Row, bulk_insert

ACTIVE, APPS, MAILBOXES = 0, 1, 2
STALE_AFTER = timedelta(days=1)  # a crashed attempt's rows are swept by the tenant's next one
_STAMP = "%Y%m%dT%H%M%S"
_TABLE: Table = UsageStaging.__table__  # type: ignore[assignment]
_KEYS = ("attempt", "report", "seq", "tenant_id", "user_key", "is_deleted")
# A staged row: the keys, then its report's columns in this order (the sync's row builders);
# in the table's column order, as SQLite's bulk INSERT binds by position in that order.
COLUMNS: dict[int, tuple[str, ...]] = {
    ACTIVE: (
        *_KEYS, "display_name", "report_refresh_date", "exchange_last", "onedrive_last",
        "sharepoint_last", "skype_last", "yammer_last", "teams_last",
    ),
    APPS: (*_KEYS, "apps_last", "windows", "mac", "mobile", "web", "apps_used"),
    MAILBOXES: (
        *_KEYS, "mailbox_last", "storage_used_bytes", "prohibit_send_receive_quota_bytes",
        "item_count",
    ),
}  # fmt: skip
# One sort of the attempt's rows: per user, whether any row is live (then only live rows count),
# and per user, report and deletedness the last row; the kept rows (at most one per report) are
# folded into the user's row. Booleans are compared as 0/1: PostgreSQL has no MAX(boolean).
_MERGE = text(
    """
    INSERT INTO user_usage (
        tenant_id, user_principal_name, display_name, is_deleted, report_refresh_date,
        exchange_last, onedrive_last, sharepoint_last, skype_last, yammer_last, teams_last,
        apps_seen, apps_last, windows, mac, mobile, web, apps_used,
        mailbox_seen, mailbox_last, storage_used_bytes, prohibit_send_receive_quota_bytes,
        item_count
    )
    SELECT
        :tenant, user_key, MAX(CASE WHEN report = 0 THEN display_name END), MIN(dead) = 1,
        MAX(CASE WHEN report = 0 THEN report_refresh_date END),
        MAX(CASE WHEN report = 0 THEN exchange_last END),
        MAX(CASE WHEN report = 0 THEN onedrive_last END),
        MAX(CASE WHEN report = 0 THEN sharepoint_last END),
        MAX(CASE WHEN report = 0 THEN skype_last END),
        MAX(CASE WHEN report = 0 THEN yammer_last END),
        MAX(CASE WHEN report = 0 THEN teams_last END),
        MAX(CASE WHEN report = 1 THEN 1 ELSE 0 END) = 1,
        MAX(CASE WHEN report = 1 THEN apps_last END),
        MAX(CASE WHEN report = 1 AND windows THEN 1 ELSE 0 END) = 1,
        MAX(CASE WHEN report = 1 AND mac THEN 1 ELSE 0 END) = 1,
        MAX(CASE WHEN report = 1 AND mobile THEN 1 ELSE 0 END) = 1,
        MAX(CASE WHEN report = 1 AND web THEN 1 ELSE 0 END) = 1,
        MAX(CASE WHEN report = 1 THEN apps_used END),
        MAX(CASE WHEN report = 2 THEN 1 ELSE 0 END) = 1,
        MAX(CASE WHEN report = 2 THEN mailbox_last END),
        MAX(CASE WHEN report = 2 THEN storage_used_bytes END),
        MAX(CASE WHEN report = 2 THEN prohibit_send_receive_quota_bytes END),
        MAX(CASE WHEN report = 2 THEN item_count END)
    FROM (
        SELECT s.*,
            MIN(CASE WHEN is_deleted THEN 1 ELSE 0 END) OVER (PARTITION BY user_key) AS dead,
            ROW_NUMBER() OVER (
                PARTITION BY user_key, report, is_deleted ORDER BY seq DESC
            ) AS latest
        FROM usage_staging s WHERE attempt = :attempt
    ) ranked
    WHERE latest = 1 AND (CASE WHEN is_deleted THEN 1 ELSE 0 END) = dead
    GROUP BY user_key
    """
)


def new_attempt(now: datetime) -> str:
    """A collection attempt's key: sortable by when it started, unique."""
    return f"{now:{_STAMP}}-{uuid.uuid4().hex[:16]}"


def sweep_stale(db: Connection, tenant_pk: int, now: datetime) -> None:
    """Drop rows a crashed attempt of this tenant left (older than `STALE_AFTER`)."""
    cutoff = f"{now - STALE_AFTER:{_STAMP}}"
    db.execute(
        delete(UsageStaging).where(
            UsageStaging.tenant_id == tenant_pk, UsageStaging.attempt < cutoff
        )
    )


def date_encoder(engine: Engine | None) -> Callable[[date | None], Any]:
    """How staged rows carry dates: SQLite's stored text, or dates for PostgreSQL's COPY."""
    if engine is not None and engine.dialect.name == "sqlite":
        return lambda day: None if day is None else day.isoformat()
    return lambda day: day


class Stager:
    """Rows waiting to be staged: written `batch` rows at a time in a transaction of their own,
    the rest by `finish` in the caller's (a small tenant's rows never cost a transaction)."""

    def __init__(self, engine: Engine, batch: int) -> None:
        self.engine, self.batch = engine, batch
        self.pending: dict[int, list[Row]] = {ACTIVE: [], APPS: [], MAILBOXES: []}
        self.count = 0
        self.flushed = False  # some rows are committed (a failure must drop them)

    def add(self, report: int, row: Row) -> None:
        self.pending[report].append(row)
        self.count += 1
        if self.count >= self.batch:
            with write_transaction(self.engine) as db:
                if db.dialect.name == "postgresql":  # rows nothing reads before the final commit
                    db.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                self.finish(db)
            self.flushed = True

    def forget(self, report: int, attempt: str) -> None:
        """Drop a report's rows staged so far (pending and committed): it is read anew."""
        self.count -= len(self.pending[report])
        self.pending[report].clear()
        if self.flushed:
            with write_transaction(self.engine) as db:
                db.execute(
                    delete(UsageStaging).where(
                        UsageStaging.attempt == attempt, UsageStaging.report == report
                    )
                )

    def finish(self, db: Connection) -> None:
        """Write the pending rows in the caller's transaction."""
        for report, rows in self.pending.items():
            if rows:
                bulk_insert(db, _TABLE, COLUMNS[report], rows, encoded=True)
                rows.clear()
        self.count = 0


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
