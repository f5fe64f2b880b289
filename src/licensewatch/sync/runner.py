"""Runs a tenant's sync: picks full or delta, owns the run row and the cleanup of datasets."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Literal

from sqlalchemy import Engine, Integer, bindparam, insert, select, update

from licensewatch.domain import schedule
from licensewatch.domain.schedule import SchedulePolicy
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.diagnostics import REQUIRED_ROLES
from licensewatch.graph.errors import DeltaTokenExpired
from licensewatch.settings import Settings
from licensewatch.storage.database import write_transaction
from licensewatch.storage.models import (
    SyncKind,
    SyncRun,
    SyncStatus,
    Tenant,
    utcnow,
)
from licensewatch.storage.writers import delete_datasets
from licensewatch.sync.delta import DeltaSync, DeltaUnavailable
from licensewatch.sync.full import FullSync
from licensewatch.sync.outcome import (
    SyncResult as SyncResult,  # re-exported: callers import it here
)
from licensewatch.sync.outcome import collect, drop_dataset, fail
from licensewatch.sync.usage import collect_after_sync
from licensewatch.sync.usage_once import UsageStep, usage_follows
from licensewatch.sync.usage_prefetch import UsagePrefetch, start_prefetch
from licensewatch.sync.work import OnPublish, OnUsage, SyncProgress

log = logging.getLogger(__name__)

# Runs this process has started and not yet finished (a thread may be running each of them).
_ACTIVE_RUNS: set[int] = set()

ClientFactory = Callable[[GraphConnection], GraphClient]
Mode = Literal["auto", "full", "delta"]
# A RUNNING run whose heartbeat is older than this was killed: its dataset is an orphan.
STALE_AFTER = timedelta(minutes=15)
# ANALYZE after a full sync of at least this many users, else at most once per interval and
# process: a fleet of small tenants re-analysed the whole users table after every one of them.
ANALYZE_MIN_USERS = 10_000
ANALYZE_INTERVAL = 300.0
_analyzed = [float("-inf")]  # monotonic time of this process's last ANALYZE
_analyze_lock = threading.Lock()


class ConsentMissing(RuntimeError):
    """The token has no roles: nothing can be read until an admin grants consent."""


class SyncAlreadyRunning(RuntimeError):
    """Another worker is syncing this tenant right now (its heartbeat is fresh)."""


def run_sync(
    engine: Engine,
    tenant_pk: int,
    connection: GraphConnection,
    *,
    mode: Mode = "full",
    client_factory: ClientFactory | None = None,
    progress: Callable[[SyncProgress], None] | None = None,
    policy: SchedulePolicy | None = None,
    shards: int = 1,
    shard_processes: int = 1,
    on_publish: OnPublish | None = None,
    on_usage: OnUsage | None = None,
    settings: Settings | None = None,
) -> SyncResult:
    """One tenant's sync, full or delta ("auto": as `domain.schedule.sync_kind` decides).

    An expired or unusable deltaLink falls back to a full sync in the same run (noted on it).
    Failures return a FAILED result (Ctrl-C: recorded, re-raised). `on_publish` runs inside
    the publishing transaction (the CLI and the web app pass the read models' build), `on_usage`
    inside the one that stores collected usage reports (the recommendations' build).
    `settings`: the process's (usage reports), when it read them once; else read per sync.
    `shards` > 1 reads users through that many UPN ranges, in `shard_processes` processes
    (0: one per core; 1: threads of this process).
    """
    kind, note = choose_kind(engine, tenant_pk, mode, policy or SchedulePolicy())
    run_id = start_run(engine, tenant_pk, kind)
    started = time.monotonic()
    result = SyncResult(run_id=run_id, status=SyncStatus.RUNNING, kind=kind, note=note)
    work: FullSync | DeltaSync | None = None
    client: GraphClient | None = None
    prefetch: UsagePrefetch | None = None
    try:
        remove_orphans(engine, tenant_pk, run_id)
        client = (client_factory or GraphClient)(connection)
        token = client.token()  # roles decide whether signInActivity is worth asking
        if not token.roles:
            raise ConsentMissing(
                "the app's token carries no application permissions: admin consent was not"
                f" granted. Add {' and '.join(REQUIRED_ROLES)} as application permissions in"
                " the app registration and click 'Grant admin consent'."
            )
        # Usage reports collected right after: the publish leaves their build to that step.
        step = UsageStep(on_usage) if on_usage is not None else None
        due = usage_follows(engine, tenant_pk, token.roles, settings)
        follows = bool(step and on_publish and due)
        # Their files are downloaded while the users are read (parsed after the publish).
        prefetch = start_prefetch(client, settings) if due else None
        if kind == SyncKind.DELTA:
            work = DeltaSync(engine, tenant_pk, run_id, client, progress, started=started)
            work.on_publish, work.usage_follows = on_publish, follows
            try:
                work.run()
            except (DeltaTokenExpired, DeltaUnavailable) as exc:
                _fall_back(engine, result, exc)
        if result.kind == SyncKind.FULL:
            work = FullSync(engine, tenant_pk, run_id, client, progress, started=started)
            work.shards, work.shard_processes = shards, shard_processes
            work.on_publish, work.usage_follows = on_publish, follows
            work.run(token.roles, token.tenant_id)
    except BaseException as exc:
        collect(result, work, client, started)
        fail(engine, result, exc)
        if not isinstance(exc, Exception):
            raise
        return result
    else:
        # The licence data is committed: usage reports ride along (daily at most, never fatal,
        # and outside the `except` above, which would drop the dataset just made current).
        collect_after_sync(engine, tenant_pk, client, token.roles, step, settings, prefetch)
        if follows and step is not None:
            step.ensure(engine, tenant_pk)
    finally:
        _ACTIVE_RUNS.discard(run_id)
        if prefetch is not None:  # stopped (a failed sync) and its spools removed
            prefetch.close()
        if client is not None:
            client.close()
    collect(result, work, client, started)
    result.status = SyncStatus.COMPLETED
    previous = work.previous_dataset if isinstance(work, FullSync) else None
    if previous is not None and previous != run_id:
        drop_dataset(engine, previous)
    if result.kind == SyncKind.FULL:
        _refresh_statistics(engine, result.users_read)
    return result


# The run record's statements, built once: for a fleet of small tenants, building and keying
# them per sync cost more CPU than the database took to run them.
_PK = bindparam("pk", type_=Integer())
_SYNC_STATE = select(Tenant.delta_link, Tenant.dataset_id, Tenant.last_full_sync_at).where(
    Tenant.id == _PK
)
_TENANT = select(Tenant.id).where(Tenant.id == _PK)
_TENANT_LOCKED = _TENANT.with_for_update()
_RUNNING = select(SyncRun.id, SyncRun.heartbeat_at, SyncRun.worker).where(
    SyncRun.tenant_id == _PK, SyncRun.status == SyncStatus.RUNNING
)
_NEW_RUN = (
    insert(SyncRun)
    .values(
        status=SyncStatus.RUNNING, users_read=0, pages_read=0, requests=0, retries=0, throttled=0
    )
    .returning(SyncRun.id)
)
_DATASET = select(Tenant.dataset_id).where(Tenant.id == _PK)
# Only full runs create datasets (a delta changes the current one in place): listing every run
# made the IN list grow with each delta. (Probing each run with EXISTS instead made PostgreSQL
# plan a sequential scan per probe: a dataset_id has ~all the rows.)
_FULL_RUNS_BUT = select(SyncRun.id).where(
    SyncRun.tenant_id == _PK,
    SyncRun.kind == SyncKind.FULL,
    SyncRun.id != bindparam("keep"),
    SyncRun.id != bindparam("current"),
)


def choose_kind(
    engine: Engine, tenant_pk: int, mode: Mode, policy: SchedulePolicy
) -> tuple[SyncKind, str | None]:
    """(kind to run, note): "delta" without a stored deltaLink runs full (note "no_delta_link")."""
    if mode == "full":
        return SyncKind.FULL, None
    if mode not in ("auto", "delta"):
        raise ValueError(f"mode must be auto, full or delta, not {mode!r}")
    with engine.connect() as db:
        row = db.execute(_SYNC_STATE, {"pk": tenant_pk}).one_or_none()
    if row is None:
        return SyncKind.FULL, None  # start_run reports the missing tenant
    usable = row.delta_link is not None and row.dataset_id is not None
    if mode == "delta":
        return (SyncKind.DELTA, None) if usable else (SyncKind.FULL, "no_delta_link")
    kind = schedule.sync_kind(
        utcnow(), has_delta_link=usable, last_full_sync_at=row.last_full_sync_at, policy=policy
    )
    return kind, None


def _fall_back(engine: Engine, result: SyncResult, exc: Exception) -> None:
    """The delta round cannot go on: note why on the run, which now becomes a full sync."""
    if isinstance(exc, DeltaTokenExpired):
        note = "delta_expired"
        answer = f"HTTP {exc.status}: {exc.code or 'no code'}"  # 410, or 400 resyncRequired…
        message = f"the deltaLink expired ({answer}); a full sync ran"
    else:
        note = getattr(exc, "reason", "delta_unavailable")
        message = f"{exc}; a full sync ran instead"
    log.info("sync run %s: %s", result.run_id, message)
    result.kind, result.note = SyncKind.FULL, note
    with write_transaction(engine) as db:
        db.execute(
            update(SyncRun)
            .where(SyncRun.id == result.run_id)
            .values(kind=SyncKind.FULL, error_kind=note, error_message=message)
        )


def start_run(engine: Engine, tenant_pk: int, kind: SyncKind = SyncKind.FULL) -> int:
    """Open the RUNNING run row (its own committed transaction); refuse a concurrent sync."""
    now = utcnow()
    with write_transaction(engine) as db:
        lock = _TENANT_LOCKED if db.dialect.name == "postgresql" else _TENANT
        if db.execute(lock, {"pk": tenant_pk}).one_or_none() is None:
            raise LookupError(f"no tenant with id {tenant_pk}")
        running = db.execute(_RUNNING, {"pk": tenant_pk}).all()
        for other, heartbeat, worker in running:
            fresh = heartbeat is not None and now - heartbeat < STALE_AFTER
            if fresh and _may_be_alive(other, worker):
                raise SyncAlreadyRunning(f"run {other} of tenant {tenant_pk} is still running")
            db.execute(
                update(SyncRun)
                .where(SyncRun.id == other)
                .values(
                    status=SyncStatus.FAILED,
                    finished_at=now,
                    error_kind="abandoned",
                    error_message="the worker stopped without finishing (no heartbeat)",
                )
            )
        worker = f"{socket.gethostname()}:{os.getpid()}"
        run = {"tenant_id": tenant_pk, "kind": kind, "worker": worker}
        run_id: int = db.execute(
            _NEW_RUN, {**run, "started_at": now, "heartbeat_at": now}
        ).scalar_one()
    _ACTIVE_RUNS.add(run_id)
    return run_id


def _may_be_alive(run_id: int, worker: str | None) -> bool:
    """False only when we know the run's process is gone: it ran on this host and its pid is
    dead, or it is this process's and no longer in progress (its failure could not be saved)."""
    host, _, pid_text = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine: only its heartbeat can tell
    pid = int(pid_text)
    if pid == os.getpid():
        return run_id in _ACTIVE_RUNS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True


def remove_orphans(engine: Engine, tenant_pk: int, keep_run: int) -> int:
    """Delete user rows of this tenant's datasets that nothing points at (killed or failed runs)."""
    with write_transaction(engine) as db:
        current = db.scalar(_DATASET, {"pk": tenant_pk})
        values = {"pk": tenant_pk, "keep": keep_run, "current": -1 if current is None else current}
        return delete_datasets(db, db.scalars(_FULL_RUNS_BUT, values).all())


def _refresh_statistics(engine: Engine, users: int) -> None:
    """PostgreSQL picks the (dataset, id) index for delta lookups only once it knows the sizes.

    A big tenant's dataset changes the sizes at once; small ones only add up, so between them
    autovacuum's own ANALYZE (and this one, every ANALYZE_INTERVAL) keeps the estimates.
    """
    if engine.dialect.name != "postgresql":
        return
    with _analyze_lock:
        now = time.monotonic()
        if users < ANALYZE_MIN_USERS and now - _analyzed[0] < ANALYZE_INTERVAL:
            return
        _analyzed[0] = now
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            db.exec_driver_sql("ANALYZE users, user_licenses")
    except Exception:  # autovacuum gets there too, only later
        log.warning("could not ANALYZE the user tables", exc_info=True)
