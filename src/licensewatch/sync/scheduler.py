"""One scheduled sync of a tenant (lease, run, schedule update), shared by daemon and workers."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Collection
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Engine, Update, bindparam, insert, select, update
from sqlalchemy.orm import joinedload

from licensewatch.domain.schedule import (
    SchedulePolicy,
    next_run_after_failure,
    next_run_after_success,
)
from licensewatch.observability.sync_metrics import SyncMetrics
from licensewatch.security.crypto import Keyring
from licensewatch.services.tenants import TenantService
from licensewatch.storage.database import read_transaction, session_scope, write_transaction
from licensewatch.storage.models import SyncRun, SyncStatus, Tenant, TenantSchedule, utcnow
from licensewatch.sync import leases
from licensewatch.sync.http_pool import SharedHttp
from licensewatch.sync.runner import ClientFactory, SyncAlreadyRunning, SyncResult, run_sync
from licensewatch.sync.work import OnPublish, OnUsage, SyncProgress

log = logging.getLogger(__name__)
BUSY_RETRY = timedelta(minutes=1)  # another process runs the tenant: look again soon


class AfterSync(Protocol):
    """Runs after every completed or failed sync of a tenant (the caller passes alert rules)."""

    def __call__(self, engine: Engine, tenant_pk: int, /, *, keyring: Keyring | None) -> object: ...


class SendReports(Protocol):
    """Runs once a reports period (the caller passes the sending of due reports)."""

    def __call__(self, engine: Engine, now: datetime, /, *, keyring: Keyring | None) -> object: ...


class SyncCancelled(Exception):
    """Raised from the progress callback: the run stops at the next page, pointer untouched."""


class Outcome(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    BUSY = "busy"  # another process holds the tenant
    SKIPPED = "skipped"  # not claimed: another owner's lease


@dataclass(slots=True)
class SyncOptions:
    """How scheduled syncs run; one per daemon or worker process."""

    keyring: Keyring
    policy: SchedulePolicy = field(default_factory=SchedulePolicy)
    lease_ttl: timedelta = leases.DEFAULT_LEASE_TTL
    client_factory: ClientFactory | None = None
    metrics: SyncMetrics | None = None
    rng: random.Random = field(default_factory=random.Random)
    # Connections reused across syncs (daemon, worker); whoever sets it closes it.
    http: SharedHttp | None = None
    # Alerts and reports live in `intelligence`, a layer beside `sync`: the caller (CLI, web app)
    # passes them in, typed, instead of the scheduler importing them by name.
    after_sync: AfterSync | None = None
    send_reports: SendReports | None = None
    # The read models (findings, costs) built in each publish transaction.
    on_publish: OnPublish | None = None
    # The recommendations built in the transaction that stores collected usage reports.
    on_usage: OnUsage | None = None

    def client_factory_or_shared(self) -> ClientFactory | None:
        if self.client_factory is not None or self.http is None:
            return self.client_factory
        return self.http.graph_client


@dataclass(slots=True)
class TenantOutcome:
    tenant_pk: int
    outcome: Outcome
    name: str = ""
    result: SyncResult | None = None
    next_sync_at: datetime | None = None
    run_id: int | None = None


StopCheck = Callable[[], str | None]


def due_tenants(engine: Engine, *, limit: int, exclude: Collection[int] = ()) -> list[int]:
    """Tenants whose next sync is due (never synced first), not leased by anyone."""
    now = utcnow()
    s = TenantSchedule
    statement = (
        select(s.tenant_id)
        .where(s.next_sync_at.is_(None) | (s.next_sync_at <= now))
        .where(s.lease_owner.is_(None) | s.lease_expires_at.is_(None) | (s.lease_expires_at < now))
        .order_by(s.next_sync_at.is_not(None), s.next_sync_at, s.tenant_id)
        .limit(limit + len(exclude))
    )
    with read_transaction(engine) as db:
        found = [pk for pk in db.scalars(statement) if pk not in exclude]
    return found[:limit]


def mark_all_due(engine: Engine) -> int:
    """Make every tenant due now (`licensewatch enqueue --all`); returns how many were not yet."""
    leases.ensure_schedules(engine)
    now = utcnow()
    s = TenantSchedule
    with write_transaction(engine) as db:
        statement = (
            update(s).where(s.next_sync_at.is_not(None) & (s.next_sync_at > now))
            .values(next_sync_at=now)
        )  # fmt: skip
        return max(db.execute(statement).rowcount, 0)


def sync_tenant_once(
    engine: Engine,
    tenant_pk: int,
    options: SyncOptions,
    *,
    owner: str,
    should_stop: StopCheck = lambda: None,
    force: bool = False,
) -> TenantOutcome:
    """Claim the tenant, run its sync, record the schedule and release the lease.

    Not due any more (another process synced it meanwhile) or leased elsewhere: SKIPPED, unless
    `force`. `should_stop` returning a reason stops the run at its next page (CANCELLED).
    """
    # One transaction: the lease, still due (not synced by someone else since the due query)
    # unless forced, and the runs of dead holders abandoned so a new run may start.
    held = leases.claim(
        engine, tenant_pk, owner, options.lease_ttl, due_only=not force, abandon_dead=True
    )
    if held is None:
        return TenantOutcome(tenant_pk, Outcome.SKIPPED)
    outcome = TenantOutcome(tenant_pk, Outcome.FAILED)
    try:
        _run(engine, outcome, options, owner, should_stop)
    finally:
        outcome.next_sync_at = _record(engine, outcome, options, owner)
    if options.metrics is not None:
        options.metrics.observe(outcome.name or str(tenant_pk), outcome.outcome, outcome.result)
    finished = outcome.outcome in (Outcome.COMPLETED, Outcome.FAILED)
    if finished and options.after_sync is not None:
        call_hook("after_sync", options.after_sync, engine, tenant_pk, keyring=options.keyring)
    return outcome


def _run(
    engine: Engine, outcome: TenantOutcome, options: SyncOptions, owner: str, stop: StopCheck
) -> None:
    pk, ttl = outcome.tenant_pk, options.lease_ttl
    renewed = [time.monotonic()]

    def progress(event: SyncProgress) -> None:
        outcome.run_id = event.run_id
        reason = stop()
        if reason is not None:
            raise SyncCancelled(f"cancelled: {reason}")
        if time.monotonic() - renewed[0] > ttl.total_seconds() / 5:
            if not leases.renew(engine, pk, owner, ttl):
                raise SyncCancelled("cancelled: the lease was lost to another worker")
            renewed[0] = time.monotonic()

    service = TenantService(engine, options.keyring)
    try:
        # The tenant and its credential in one query, decrypted into its connection.
        with session_scope(engine, write=False) as session:
            tenant = session.get(Tenant, pk, options=[joinedload(Tenant.credential)])
            if tenant is None:
                raise LookupError(f"no tenant with id {pk}")
            name = outcome.name = tenant.name
            connection = service.connection_for(tenant)
    except Exception as exc:  # no credential, undecryptable: a failed run the admin can see
        outcome.run_id = _failed_run(engine, pk, exc)
        log.warning("tenant %s cannot be synced: %s", outcome.name or pk, exc)
        return
    try:
        with options.metrics.running() if options.metrics else nullcontext():
            result = run_sync(
                engine,
                pk,
                connection,
                mode="auto",
                client_factory=options.client_factory_or_shared(),
                progress=progress,
                policy=options.policy,
                on_publish=options.on_publish,
                on_usage=options.on_usage,
                settings=options.http.settings if options.http is not None else None,
            )
    except SyncAlreadyRunning as exc:
        outcome.outcome = Outcome.BUSY
        log.info("tenant %s: %s", name, exc)
        return
    outcome.result, outcome.run_id = result, result.run_id
    if result.ok:
        outcome.outcome = Outcome.COMPLETED
    elif isinstance(result.error, SyncCancelled):
        outcome.outcome = Outcome.CANCELLED
    log.info(
        "tenant %s: sync %s: %s users, %s pages in %.1f s%s",
        name, outcome.outcome, result.users_read, result.pages_read, result.duration_ms / 1000,
        f" ({result.error_kind}: {result.error_message})" if not result.ok else "",
    )  # fmt: skip


def _failed_run(engine: Engine, tenant_pk: int, exc: Exception) -> int | None:
    now = utcnow()
    try:
        with write_transaction(engine) as db:
            run_id: int = db.execute(
                insert(SyncRun)
                .values(
                    tenant_id=tenant_pk, status=SyncStatus.FAILED, started_at=now,
                    finished_at=now, duration_ms=0, error_kind=type(exc).__name__[:80],
                    error_message=str(exc) or type(exc).__name__,
                )
                .returning(SyncRun.id)
            ).scalar_one()  # fmt: skip
        return run_id
    except Exception:  # the tenant may be gone; the schedule update below is all that matters
        log.warning("could not record the failure of tenant %s", tenant_pk, exc_info=True)
        return None


_SCHEDULE_ROW = (
    select(TenantSchedule.consecutive_failures, Tenant.sync_interval_seconds)
    .join(Tenant, Tenant.id == TenantSchedule.tenant_id)
    .where(TenantSchedule.tenant_id == bindparam("pk"))
)


def _schedule_update(*columns: str) -> Update:
    """Release tenant `:pk`'s lease (if still `:owner`'s) and set `columns` (bound as v_NAME)."""
    s, table = TenantSchedule, TenantSchedule.__table__
    values = {name: bindparam(f"v_{name}", type_=table.c[name].type) for name in columns}
    where = (s.tenant_id == bindparam("pk"), s.lease_owner == bindparam("owner"))
    return update(s).where(*where).values(lease_owner=None, lease_expires_at=None, **values)


# Built once (a fleet saves thousands of schedules): by outcome, the columns it sets.
_SAVE_SUCCESS = _schedule_update("next_sync_at", "consecutive_failures", "last_success_at")
_SAVE_FAILURE = _schedule_update("next_sync_at", "consecutive_failures", "last_failure_at")
_SAVE_NEXT = _schedule_update("next_sync_at")


def _record(
    engine: Engine, outcome: TenantOutcome, options: SyncOptions, owner: str
) -> datetime | None:
    """Persist when the tenant runs next and release the lease, in one transaction."""
    now = utcnow()
    with write_transaction(engine) as db:
        row = db.execute(_SCHEDULE_ROW, {"pk": outcome.tenant_pk}).one_or_none()
        if row is None:
            return None  # the tenant was removed during its sync
        failures, interval = row[0] or 0, row[1]
        statement, values = _SAVE_NEXT, dict[str, object]()
        if outcome.outcome == Outcome.COMPLETED:
            period = timedelta(seconds=interval) if interval else None
            next_at = next_run_after_success(now, options.policy, period, options.rng)
            statement, failures, values["v_last_success_at"] = _SAVE_SUCCESS, 0, now
        elif outcome.outcome == Outcome.FAILED:
            failures += 1
            next_at = next_run_after_failure(now, failures, options.policy, options.rng)
            statement, values["v_last_failure_at"] = _SAVE_FAILURE, now
        elif outcome.outcome == Outcome.CANCELLED:
            next_at = now  # stopped by a shutdown: due again at once
        else:
            next_at = now + BUSY_RETRY
        values.update(pk=outcome.tenant_pk, owner=owner, v_next_sync_at=next_at)
        if statement is not _SAVE_NEXT:
            values["v_consecutive_failures"] = failures
        changed = db.execute(statement, values).rowcount
    if not changed:
        log.warning("tenant %s: lease lost before the schedule was saved", outcome.tenant_pk)
    return next_at


def call_hook(name: str, hook: Callable[..., object], *args: object, **kwargs: object) -> None:
    """Call an alerts or reports hook; a failing one is logged, never stops the scheduler."""
    try:
        hook(*args, **kwargs)
    except Exception:
        log.exception("the %s hook failed", name)
