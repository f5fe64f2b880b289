"""Scale-out workers: a procrastinate app on the shared PostgreSQL whose jobs sync one tenant."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any

import psycopg
from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Status
from procrastinate.schema import SchemaManager
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from licensewatch.storage.database import normalize_url
from licensewatch.storage.models import utcnow
from licensewatch.sync import leases
from licensewatch.sync.http_pool import SharedHttp
from licensewatch.sync.scheduler import (
    SyncOptions,
    call_hook,
    due_tenants,
    sync_tenant_once,
)

log = logging.getLogger(__name__)

SYNC_TASK = "licensewatch.sync_tenant"
# Any constant works: it only keeps workers starting together from racing to create tables.
_SCHEMA_LOCK_KEY = 0x6C77_5343


class SqliteNotSupported(ValueError):
    """Workers coordinate through PostgreSQL; a SQLite file cannot be shared between machines."""


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    concurrency: int = 2
    schedule_cron: str = "* * * * *"  # look for due tenants (and stalled jobs) every minute
    stalled_after: float = 60.0  # seconds without a worker heartbeat before its jobs are retried
    heartbeat_interval: float = 10.0
    enqueue_limit: int = 1000  # tenants enqueued per tick at most
    # Enqueue due tenants when the worker starts instead of at the next cron tick (up to a minute
    # later): a fleet started or restarted gets to work at once.
    enqueue_at_start: bool = True


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL as libpq understands it (procrastinate's psycopg pool); no SQLite."""
    url = make_url(normalize_url(database_url))
    if url.get_backend_name() != "postgresql":
        raise SqliteNotSupported(
            "`licensewatch worker` needs PostgreSQL (LICENSEWATCH_DATABASE_URL=postgresql://...): "
            "workers on several machines share one queue; with SQLite run `licensewatch daemon`"
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def prepare_database(database_url: str) -> Engine:
    """Migrate the schema and create procrastinate's tables (once) in the same database.

    Workers started together (or a rolling upgrade) serialise on an advisory lock, so exactly one
    of them runs the migrations and the queue schema; the others find them done.
    """
    from licensewatch.storage.database import make_engine
    from licensewatch.storage.migrate import upgrade

    engine = make_engine(database_url, upgrade=False)
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK_KEY,))
        try:
            upgrade(engine)
            with connection.transaction():
                row = connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
                if row is None or row[0] is None:
                    connection.execute(SchemaManager.get_schema())
                    log.info("created the job queue tables (procrastinate_*)")
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK_KEY,))
    return engine


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def build_app(
    database_url: str, engine: Engine, options: SyncOptions, config: WorkerConfig | None = None
) -> App:
    """The procrastinate app: the sync job, the due-tenant scheduler and the stalled-job rescuer."""
    config = config or WorkerConfig()
    connector = PsycopgConnector(
        conninfo=libpq_url(database_url), min_size=1, max_size=config.concurrency + 4
    )
    app = App(connector=connector)

    @app.task(
        name=SYNC_TASK,
        pass_context=True,
        # Outcomes of the sync itself are recorded and backed off by the schedule; only errors
        # reaching the queue (the database was unreachable) are retried here.
        retry=RetryStrategy(max_attempts=5, exponential_wait=2, retry_exceptions=[DBAPIError]),
    )
    def sync_tenant(context: JobContext, tenant_pk: int) -> str:
        # The job id owns the lease: a retried job of a killed worker takes its tenant back at
        # once instead of waiting for the lease to expire.
        outcome = sync_tenant_once(
            engine,
            tenant_pk,
            options,
            owner=f"job:{context.job.id}",
            should_stop=lambda: "shutdown" if context.should_abort() else None,
        )
        return outcome.outcome.value

    @app.periodic(cron=config.schedule_cron, periodic_id="due")
    @app.task(name="licensewatch.enqueue_due_tenants")
    async def enqueue_due_tenants(timestamp: int) -> int:
        return await enqueue_due(app, engine, config.enqueue_limit)

    @app.periodic(cron=config.schedule_cron, periodic_id="stalled")
    @app.task(name="licensewatch.retry_stalled_jobs")
    async def retry_stalled_jobs(timestamp: int) -> int:
        return await retry_stalled(app, config.stalled_after)

    @app.periodic(cron=config.schedule_cron, periodic_id="reports")
    @app.task(name="licensewatch.send_due_reports")
    async def send_due_reports(timestamp: int) -> None:
        # procrastinate defers each period once for the whole fleet: no report is sent twice.
        if options.send_reports is not None:
            await asyncio.to_thread(
                call_hook,
                "send_reports",
                options.send_reports,
                engine,
                utcnow(),
                keyring=options.keyring,
            )

    _ = (sync_tenant, enqueue_due_tenants, retry_stalled_jobs, send_due_reports)
    return app


# Tenants whose sync job already waits in the queue (procrastinate's partial unique index on
# queueing_lock WHERE status = 'todo' answers this without a scan).
_QUEUED = text(
    "SELECT queueing_lock FROM procrastinate_jobs"
    " WHERE status = 'todo' AND queueing_lock LIKE 'sync:%'"
)


def _due(engine: Engine, limit: int) -> list[int]:
    """Due tenants without a waiting job: re-deferring them would only be refused one by one."""
    leases.ensure_schedules(engine)
    with engine.connect() as db:
        queued = {int(lock.removeprefix("sync:")) for lock in db.scalars(_QUEUED)}
    return due_tenants(engine, limit=limit, exclude=queued)


# One enqueuer at a time: workers starting together would otherwise race to defer the same
# tenants, and all but one of each race end in a refused insert.
_ENQUEUE_LOCK_KEY = 0x6C77_4551


async def enqueue_due(app: App, engine: Engine, limit: int = 1000, *, wait: bool = False) -> int:
    """Defer a sync job for every due tenant (at most `limit`); returns how many were deferred.

    Run by the periodic task, at worker start and by `licensewatch enqueue`. The queueing lock
    keeps one waiting job per tenant however many workers enqueue at once; the lock keeps two
    jobs of a tenant from running together. While another process enqueues, this one skips
    (the other covers every due tenant) unless `wait`.
    """
    # A transaction-level lock: however this ends, the transaction's end releases it.
    with engine.begin() as db:
        lock = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
        statement = text(f"SELECT {lock}(:key)")
        got = await asyncio.to_thread(db.scalar, statement, {"key": _ENQUEUE_LOCK_KEY})
        if got is False:
            log.info("another process is enqueuing the due tenants")
            return 0
        return await _defer_due(app, engine, limit)


async def _defer_due(app: App, engine: Engine, limit: int) -> int:
    due = await asyncio.to_thread(_due, engine, limit)
    task = app.tasks[SYNC_TASK]
    enqueued = 0
    for tenant_pk in due:
        deferrer = task.configure(queueing_lock=f"sync:{tenant_pk}", lock=f"tenant:{tenant_pk}")
        try:
            await deferrer.defer_async(tenant_pk=tenant_pk)
            enqueued += 1
        except AlreadyEnqueued:
            pass  # enqueued meanwhile (the cron of an older version): no pile-up
    if enqueued:
        log.info("enqueued %s tenant sync(s)", enqueued)
    return enqueued


def enqueue_now(
    database_url: str, engine: Engine, options: SyncOptions, *, limit: int = 1000
) -> int:
    """Enqueue every due tenant now, from any process (`licensewatch enqueue`); see enqueue_due."""
    app = build_app(database_url, engine, options, WorkerConfig(concurrency=1))

    async def run() -> int:
        async with app.open_async():
            return await enqueue_due(app, engine, limit, wait=True)

    return asyncio.run(run())


async def retry_stalled(app: App, stalled_after: float) -> int:
    """Put the jobs of workers that stopped heart-beating (killed, lost) back in the queue."""
    jobs = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after)
    retried = 0
    for job in jobs:
        if job.id is None:  # never for a job read from the database
            continue
        try:
            await app.job_manager.retry_job(job)
            retried += 1
            log.warning("retrying job %s (%s) of a stalled worker", job.id, job.call_string)
            continue
        except Exception as exc:  # a newer job for the tenant waits already (queueing lock)
            log.warning("stalled job %s not retried: %s", job.id, str(exc).splitlines()[0])
        try:
            # Closing it frees its per-tenant lock, so the waiting job can run.
            await app.job_manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
        except Exception:
            log.exception("could not close stalled job %s", job.id)
    return retried


def run_worker(
    database_url: str, engine: Engine, options: SyncOptions, config: WorkerConfig
) -> None:
    """Work until SIGTERM/SIGINT (running syncs stop at their next page); see prepare_database."""
    app = build_app(database_url, engine, options, config)
    worker_options: dict[str, Any] = {
        "concurrency": config.concurrency,
        "name": worker_name(),
        "update_heartbeat_interval": config.heartbeat_interval,
        "stalled_worker_timeout": config.stalled_after,
        # Abort at once on a stop signal: running syncs see should_abort() at their next page.
        "shutdown_graceful_timeout": 0,
        "install_signal_handlers": True,
    }

    own_http = options.http is None and options.client_factory is None
    if own_http:
        options.http = SharedHttp(config.concurrency)

    async def work() -> None:
        async with app.open_async():
            if config.enqueue_at_start:
                try:
                    await enqueue_due(app, engine, config.enqueue_limit)
                except Exception:  # the periodic task enqueues them at its next tick
                    log.exception("could not enqueue the due tenants at start")
            await app.run_worker_async(**worker_options)

    try:
        asyncio.run(work())
    finally:
        if own_http and options.http is not None:
            options.http.close()
