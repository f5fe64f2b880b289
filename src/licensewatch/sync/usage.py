"""Usage-report collection after a sync: at most once per interval, never failing the sync.

Reports change once a day (their Report Refresh Date lags by a day or more), so a tenant's reports
are read with its sync only when the last attempt is older than `LICENSEWATCH_USAGE_INTERVAL_HOURS`.
The outcome (ok, missing permission, failed) is recorded on `usage_collections`; a failure keeps
the rows already stored. Concealed names (hashed UPNs) are never stored per user.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Integer, bindparam, delete, insert, select, update

from licensewatch.domain.usage import DEFAULT_PERIOD, Period, parse_period
from licensewatch.domain.usage_csv import (
    ActiveUserRow,
    AppUserRow,
    MailboxRow,
    UsageReportError,
    parse_active_users,
    parse_app_users,
    parse_mailboxes,
)
from licensewatch.graph.client import GraphClient
from licensewatch.graph.errors import GraphAuthorizationError, GraphError
from licensewatch.graph.reports import Report, download_report, names_concealed
from licensewatch.settings import Settings, load_settings
from licensewatch.storage.database import write_transaction
from licensewatch.storage.models import utcnow
from licensewatch.storage.models.usage import UsageCollection, UserUsage
from licensewatch.sync.work import OnUsage

log = logging.getLogger(__name__)

OK, MISSING_PERMISSION, FAILED, SKIPPED = "ok", "missing_permission", "failed", "skipped"
REPORTS_ROLE = "Reports.Read.All"
MISSING_REPORTS = (
    "the app lacks the application permission Reports.Read.All: usage-based recommendations are "
    "unavailable. In Entra ID > App registrations > <app> > API permissions, add Microsoft Graph "
    "> Application permissions > Reports.Read.All, then click 'Grant admin consent'."
)


@dataclass(frozen=True)
class UsageOutcome:
    status: str  # ok | missing_permission | failed | skipped
    message: str | None = None
    users: int = 0
    concealed: bool | None = None


# Asked after every sync (mostly to hear "collected recently"): built once.
_LAST_ATTEMPT = select(UsageCollection.attempted_at, UsageCollection.status).where(
    UsageCollection.tenant_id == bindparam("pk", type_=Integer())
)


def _due(engine: Engine, tenant_pk: int, roles: Iterable[str], now: datetime, hours: float) -> bool:
    with engine.connect() as db:
        row = db.execute(_LAST_ATTEMPT, {"pk": tenant_pk}).one_or_none()
    if row is None or now - row.attempted_at >= timedelta(hours=hours):
        return True
    # Consent granted since the last attempt: do not make the admin wait a day to see it work.
    return row.status == MISSING_PERMISSION and REPORTS_ROLE in set(roles)


def collect_after_sync(
    engine: Engine,
    tenant_pk: int,
    client: GraphClient,
    roles: Iterable[str],
    on_commit: OnUsage | None = None,
    settings: Settings | None = None,
) -> UsageOutcome:
    """The sync's hook: collect when enabled and due; never raises (the sync has succeeded).

    `settings`: the process's, read once (daemon, worker); else the environment is read now.
    """
    try:
        settings = settings or load_settings()
        if not settings.usage_reports:
            return UsageOutcome(SKIPPED, "usage reports are switched off")
        now = utcnow()
        if not _due(engine, tenant_pk, roles, now, settings.usage_interval_hours):
            return UsageOutcome(SKIPPED, "collected recently")
        period = parse_period(settings.usage_period)
        return collect_usage(engine, tenant_pk, client, period, on_commit=on_commit)
    except Exception as exc:  # the licence sync's data is committed: usage must not undo it
        # The message only: a traceback would land in the CLI's output of a successful sync.
        log.warning("usage collection for tenant %s failed: %s", tenant_pk, exc)
        log.debug("usage collection failure", exc_info=True)
        message = f"usage reports could not be stored: {type(exc).__name__}"
        try:
            _record_failure(engine, tenant_pk, DEFAULT_PERIOD, utcnow(), FAILED, message)
        except Exception:  # the database itself may be what failed
            log.debug("could not record the usage failure", exc_info=True)
        return UsageOutcome(FAILED, message)


def collect_usage(
    engine: Engine,
    tenant_pk: int,
    client: GraphClient,
    period: Period = DEFAULT_PERIOD,
    *,
    on_commit: OnUsage | None = None,
) -> UsageOutcome:
    """Read the three per-user reports and store them; the outcome is always recorded.

    `on_commit` runs in the transaction that stores the rows (the CLI and the web app pass the
    recommendations' build): they commit together. A failure stores no rows and calls nothing,
    so the stored recommendations stay those of the last success.
    """
    now = utcnow()
    try:
        concealed_setting, readable = _concealed_setting(client)
        active = parse_active_users(download_report(client, Report.ACTIVE_USERS, period.value))
        apps = parse_app_users(download_report(client, Report.APP_USERS, period.value))
        mailboxes = parse_mailboxes(download_report(client, Report.MAILBOXES, period.value))
    except GraphAuthorizationError as exc:
        _record_failure(engine, tenant_pk, period, now, MISSING_PERMISSION, MISSING_REPORTS)
        log.info("usage reports of tenant %s: missing permission (%s)", tenant_pk, exc)
        return UsageOutcome(MISSING_PERMISSION, MISSING_REPORTS)
    except (GraphError, UsageReportError) as exc:
        message = f"usage reports could not be read: {exc}"
        _record_failure(engine, tenant_pk, period, now, FAILED, message)
        log.warning("tenant %s: %s", tenant_pk, message)
        return UsageOutcome(FAILED, message)
    # Hashed names have no "@": trust the rows when the setting could not be read (or disagrees).
    inferred = bool(active) and not any("@" in row.upn for row in active)
    concealed = bool(concealed_setting) or inferred
    rows = [] if concealed else _merge(active, apps, mailboxes)
    refresh = [_refresh(active), _refresh(apps), _refresh(mailboxes)]
    counts = _counts(active, apps, mailboxes, period)
    with write_transaction(engine) as db:
        db.execute(delete(UserUsage).where(UserUsage.tenant_id == tenant_pk))
        if rows:
            db.execute(insert(UserUsage), [{"tenant_id": tenant_pk, **row} for row in rows])
        values: dict[str, Any] = {
            "period": period.value,
            "attempted_at": now,
            "collected_at": now,
            "status": OK,
            "message": None,
            "concealed": concealed,
            "settings_readable": readable,
            "active_refresh_date": refresh[0],
            "apps_refresh_date": refresh[1],
            "mailbox_refresh_date": refresh[2],
            "counts": counts,
        }
        _upsert(db, tenant_pk, values)
        if on_commit is not None:
            on_commit(db, tenant_pk)
    return UsageOutcome(OK, None, len(rows), concealed)


def _concealed_setting(client: GraphClient) -> tuple[bool | None, bool]:
    """(displayConcealedNames, readable): None when ReportSettings.Read.All is not granted."""
    try:
        return names_concealed(client), True
    except GraphError as exc:
        log.info("report settings unreadable (%s): concealment is inferred from the rows", exc)
        return None, False


def _upsert(db: Any, tenant_pk: int, values: dict[str, Any]) -> None:
    exists = db.execute(
        select(UsageCollection.tenant_id).where(UsageCollection.tenant_id == tenant_pk)
    ).one_or_none()
    if exists is None:
        db.execute(insert(UsageCollection).values(tenant_id=tenant_pk, **values))
    else:
        db.execute(
            update(UsageCollection).where(UsageCollection.tenant_id == tenant_pk).values(**values)
        )


def _record_failure(
    engine: Engine, tenant_pk: int, period: Period, now: datetime, status: str, message: str
) -> None:
    """Record the attempt; the rows and dates of the last success stay as they were."""
    values: dict[str, Any] = {"attempted_at": now, "status": status, "message": message[:2000]}
    with write_transaction(engine) as db:
        exists = db.execute(
            select(UsageCollection.tenant_id).where(UsageCollection.tenant_id == tenant_pk)
        ).one_or_none()
        if exists is None:
            values.update(period=period.value, counts={}, collected_at=None)
        _upsert(db, tenant_pk, values)


def _refresh(rows: list[ActiveUserRow] | list[AppUserRow] | list[MailboxRow]) -> date | None:
    dates = [row.refresh for row in rows if row.refresh is not None]
    return max(dates) if dates else None


def _blank(upn: str) -> dict[str, Any]:
    return {
        "user_principal_name": upn,
        "display_name": None,
        "is_deleted": False,
        "report_refresh_date": None,
        **{f"{w}_last": None for w in ("exchange", "onedrive", "sharepoint", "skype")},
        "yammer_last": None,
        "teams_last": None,
        "apps_seen": False,
        "apps_last": None,
        "windows": False,
        "mac": False,
        "mobile": False,
        "web": False,
        "apps_used": None,
        "mailbox_seen": False,
        "mailbox_last": None,
        "storage_used_bytes": None,
        "prohibit_send_receive_quota_bytes": None,
        "item_count": None,
    }


def _merge(
    active: list[ActiveUserRow], apps: list[AppUserRow], mailboxes: list[MailboxRow]
) -> list[dict[str, Any]]:
    """One row per lower-cased UPN (a deleted user's row never hides a live one's)."""
    rows: dict[str, dict[str, Any]] = {}

    def row_for(upn: str, deleted: bool = False) -> dict[str, Any] | None:
        key = upn.strip().lower()[:400]
        if not key:
            return None
        row = rows.get(key)
        if row is None:
            row = rows[key] = _blank(key)
            row["is_deleted"] = deleted
        elif row["is_deleted"] and not deleted:
            row.update(_blank(key))
        elif deleted and not row["is_deleted"]:
            return None
        return row

    for item in active:
        row = row_for(item.upn, item.is_deleted)
        if row is not None:
            row["display_name"] = item.display_name[:400] or None
            row["report_refresh_date"] = item.refresh
            for workload, when in item.last.items():
                row[f"{workload}_last"] = when
    for app in apps:
        row = row_for(app.upn)
        if row is not None:
            row.update(apps_seen=True, apps_last=app.last_activity, windows=app.windows)
            row.update(mac=app.mac, mobile=app.mobile, web=app.web)
            row["apps_used"] = ",".join(app.apps)[:200] or None
    for box in mailboxes:
        row = row_for(box.upn, box.is_deleted)
        if row is not None:
            row.update(mailbox_seen=True, mailbox_last=box.last_activity)
            row.update(storage_used_bytes=box.storage_used, item_count=box.item_count)
            row["prohibit_send_receive_quota_bytes"] = box.prohibit_send_receive_quota
    return list(rows.values())


def _counts(
    active: list[ActiveUserRow], apps: list[AppUserRow], mailboxes: list[MailboxRow], period: Period
) -> dict[str, int]:
    """Tenant-wide counts: right even with concealed names (nothing is joined to users)."""
    refresh = _refresh(active)
    start = refresh - timedelta(days=period.days) if refresh else None
    live = [row for row in active if not row.is_deleted]
    counts = {"users": len(live)}
    any_active = 0
    for workload in ("exchange", "onedrive", "sharepoint", "skype", "yammer", "teams"):
        n = sum(1 for r in live if start and (r.last[workload] or date.min) >= start)
        counts[f"active_{workload}"] = n
    for r in live:
        any_active += any(start and (when or date.min) >= start for when in r.last.values())
    counts["active_any"] = any_active
    counts["inactive"] = len(live) - any_active
    for platform in ("windows", "mac", "mobile", "web"):
        counts[f"apps_{platform}"] = sum(1 for a in apps if getattr(a, platform))
    counts["mailboxes"] = sum(1 for m in mailboxes if not m.is_deleted)
    counts["mailbox_bytes"] = sum(m.storage_used or 0 for m in mailboxes if not m.is_deleted)
    return counts
