"""Usage-report collection after a sync: at most once per interval, never failing the sync.

Reports change once a day (their Report Refresh Date lags by a day or more), so a tenant's reports
are read with its sync only when the last attempt is older than `LICENSEWATCH_USAGE_INTERVAL_HOURS`.
The outcome (ok, missing permission, failed) is recorded on `usage_collections`; a failure keeps
the rows already stored. Concealed names (hashed UPNs) are never stored per user.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Integer, bindparam, delete, insert, select, update

from licensewatch.domain.usage import DEFAULT_PERIOD, Period, parse_period
from licensewatch.domain.usage_csv import UsageReportError
from licensewatch.graph.client import GraphClient
from licensewatch.graph.errors import GraphAuthorizationError, GraphError
from licensewatch.settings import Settings, load_settings
from licensewatch.storage.database import write_transaction
from licensewatch.storage.models import utcnow
from licensewatch.storage.models.usage import UsageCollection, UserUsage
from licensewatch.storage.usage_staging import (
    Stager,
    discard,
    drop,
    merge,
    new_attempt,
    sweep_stale,
)
from licensewatch.sync.usage_prefetch import UsagePrefetch, concealed_setting
from licensewatch.sync.usage_staging import new_stager, stream_reports
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


def usage_due(
    engine: Engine, tenant_pk: int, roles: Iterable[str], now: datetime, hours: float
) -> bool:
    """Whether the tenant's usage reports are due (the interval passed since the last attempt,
    or a permission granted since)."""
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
    prefetch: UsagePrefetch | None = None,
) -> UsageOutcome:
    """The sync's hook: collect when enabled and due; never raises (the sync has succeeded).

    `settings`: the process's, read once (daemon, worker); else the environment is read now.
    `prefetch`: the reports' download started with the sync (its spools are read instead).
    """
    try:
        settings = settings or load_settings()
        if not settings.usage_reports:
            return UsageOutcome(SKIPPED, "usage reports are switched off")
        now = utcnow()
        if not usage_due(engine, tenant_pk, roles, now, settings.usage_interval_hours):
            return UsageOutcome(SKIPPED, "collected recently")
        period = parse_period(settings.usage_period)
        return collect_usage(
            engine, tenant_pk, client, period, on_commit=on_commit, prefetch=prefetch
        )
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
    prefetch: UsagePrefetch | None = None,
) -> UsageOutcome:
    """Read the three per-user reports and store them; the outcome is always recorded.

    `on_commit` runs in the transaction that stores the rows (the CLI and the web app pass the
    recommendations' build): they commit together. A failure stores no rows and calls nothing,
    so the stored recommendations stay those of the last success. The reports stream into
    staging rows of this attempt (never the stored ones), merged into `user_usage` in that
    transaction; a failed attempt's staged rows are dropped. With `prefetch`, the settings and
    files it read are used (its failure is met at the same step as a download's here).
    """
    now = utcnow()
    attempt = new_attempt(now)
    stager: Stager | None = None
    try:
        read = prefetch.concealed_setting if prefetch is not None else concealed_setting
        setting, readable = read(client)
        # Known hashed names are never staged: only the tenant-wide counts are kept.
        stager = None if setting else new_stager(engine)
        if prefetch is not None and prefetch.period == period:
            tally = stream_reports(stager, client, period, tenant_pk, attempt, prefetch.open)
        else:
            tally = stream_reports(stager, client, period, tenant_pk, attempt)
    except GraphAuthorizationError as exc:
        _discard(engine, attempt, stager)
        _record_failure(engine, tenant_pk, period, now, MISSING_PERMISSION, MISSING_REPORTS)
        log.info("usage reports of tenant %s: missing permission (%s)", tenant_pk, exc)
        return UsageOutcome(MISSING_PERMISSION, MISSING_REPORTS)
    except (GraphError, UsageReportError) as exc:
        _discard(engine, attempt, stager)
        message = f"usage reports could not be read: {exc}"
        _record_failure(engine, tenant_pk, period, now, FAILED, message)
        log.warning("tenant %s: %s", tenant_pk, message)
        return UsageOutcome(FAILED, message)
    except BaseException:
        _discard(engine, attempt, stager)
        raise
    # Hashed names have no "@": trust the rows when the setting could not be read (or disagrees).
    concealed = bool(setting) or tally.concealed_rows
    with _discarded_on_failure(engine, attempt, stager), write_transaction(engine) as db:
        db.execute(delete(UserUsage).where(UserUsage.tenant_id == tenant_pk))
        users = _merge_staged(db, stager, tenant_pk, attempt, concealed, now)
        values: dict[str, Any] = {
            "period": period.value,
            "attempted_at": now,
            "collected_at": now,
            "status": OK,
            "message": None,
            "concealed": concealed,
            "settings_readable": readable,
            "active_refresh_date": tally.refresh[0],
            "apps_refresh_date": tally.refresh[1],
            "mailbox_refresh_date": tally.refresh[2],
            "counts": tally.counts(period),
        }
        _upsert(db, tenant_pk, values)
        if on_commit is not None:
            on_commit(db, tenant_pk)
    return UsageOutcome(OK, None, users, concealed)


def _merge_staged(
    db: Connection,
    stager: Stager | None,
    tenant_pk: int,
    attempt: str,
    concealed: bool,
    now: datetime,
) -> int:
    """The attempt's staged rows merged into `user_usage` (none when concealed), then dropped."""
    if stager is None:
        return 0
    stager.finish(db)
    users = 0 if concealed else merge(db, tenant_pk, attempt)
    drop(db, attempt)
    sweep_stale(db, tenant_pk, now)  # what a crashed attempt left
    return users


@contextmanager
def _discarded_on_failure(engine: Engine, attempt: str, stager: Stager | None) -> Iterator[None]:
    """Around the final transaction: its failure drops the rows staged before it."""
    try:
        yield
    except BaseException:
        _discard(engine, attempt, stager)
        raise


def _discard(engine: Engine, attempt: str, stager: Stager | None) -> None:
    """Drop a failed attempt's committed staged rows; the stored usage was never touched."""
    if stager is None or not stager.flushed:
        return
    try:
        discard(engine, attempt)
    except Exception:  # the database itself may be what failed: the next attempt sweeps them
        log.debug("could not drop the staged usage rows", exc_info=True)


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
