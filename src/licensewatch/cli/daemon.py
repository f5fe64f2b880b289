"""`licensewatch daemon`, `worker`, `enqueue` and `status`: scheduled syncs, scale-out, status."""

from __future__ import annotations

import logging
import os
import signal
from datetime import datetime, timedelta
from types import FrameType
from typing import Annotated

import psycopg
import typer
from rich.markup import escape

from licensewatch.cli.output import (
    ExitCode,
    OutputFormat,
    expected_errors,
    fail,
    info,
    print_csv,
    print_json,
    stdout,
    table,
)
from licensewatch.domain.schedule import parse_duration
from licensewatch.observability.health import Health, TenantStatus, tenant_status
from licensewatch.observability.server import MetricsServer
from licensewatch.observability.sync_metrics import SyncMetrics
from licensewatch.settings import Settings, load_settings

ConcurrencyOpt = Annotated[
    int, typer.Option("--concurrency", min=1, max=64, help="Tenant syncs at once.")
]
HostOpt = Annotated[str, typer.Option("--metrics-host", help="Address of /metrics and /healthz.")]
LeaseOpt = Annotated[str, typer.Option("--lease-ttl", help="Lease of a tenant being synced.")]


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as error:
        fail(str(error))


def _prepare(settings: Settings) -> None:
    from licensewatch.logging_setup import configure_logging

    configure_logging(settings)


def _postgres_settings() -> Settings:
    """Settings of a queue command (worker, enqueue): PostgreSQL only, logging configured."""
    from licensewatch.sync.worker import SqliteNotSupported, libpq_url

    settings = load_settings()
    try:
        libpq_url(settings.database_url)
    except SqliteNotSupported as error:
        fail(str(error), fix="set LICENSEWATCH_DATABASE_URL to a PostgreSQL database")
    _prepare(settings)
    return settings


def _serve_metrics(
    host: str, port: int | None, metrics: SyncMetrics, health: Health
) -> MetricsServer | None:
    if port is None or port < 0:
        return None
    try:
        server = MetricsServer(host, port, metrics.render, health.check)
    except OSError as error:
        fail(f"cannot serve metrics on {host}:{port}: {error.strerror}", fix="pick --metrics-port")
    info(f"metrics at {server.url}/metrics, health at {server.url}/healthz")
    return server


def daemon(
    concurrency: ConcurrencyOpt = 4,
    metrics_host: HostOpt = "127.0.0.1",
    metrics_port: Annotated[
        int, typer.Option("--metrics-port", help="0: any free port; -1: no metrics server.")
    ] = 9464,
    once: Annotated[bool, typer.Option("--once", help="Sync what is due, then exit.")] = False,
    stop_timeout: Annotated[
        float, typer.Option("--stop-timeout", help="Seconds a stop waits for running syncs.")
    ] = 30.0,
    lease_ttl: LeaseOpt = "10m",
) -> None:
    """Sync every tenant on its interval (one process; SQLite or PostgreSQL)."""
    from licensewatch.storage.database import make_engine
    from licensewatch.storage.encrypted import keyring_for
    from licensewatch.sync.daemon import Daemon, DaemonConfig
    from licensewatch.sync.scheduler import SyncOptions

    settings = load_settings()
    _prepare(settings)
    ttl = _duration(lease_ttl)
    with expected_errors():
        engine = make_engine(settings.database_url)
        options = SyncOptions(
            keyring=keyring_for(engine, settings), lease_ttl=ttl, metrics=SyncMetrics()
        )
    config = DaemonConfig(concurrency=concurrency, stop_timeout=stop_timeout, once=once)
    runner = Daemon(engine, options, config)
    server = _serve_metrics(metrics_host, metrics_port, runner.metrics, runner.health)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        info(f"received {signal.Signals(signum).name}: stopping after the current pages")
        runner.stop("shutdown")

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = runner.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if server is not None:
            server.close()
        engine.dispose()
    if runner.stuck:
        # A thread blocked in a network call would hold the exit past the deadline; its run is
        # already recorded as cancelled and its lease released, so nothing is left to finish.
        logging.shutdown()
        os._exit(code)
    raise typer.Exit(code)


def worker(
    concurrency: ConcurrencyOpt = 2,
    metrics_host: HostOpt = "127.0.0.1",
    metrics_port: Annotated[
        int | None, typer.Option("--metrics-port", help="Serve /metrics here (0: any port).")
    ] = None,
    schedule_cron: Annotated[
        str, typer.Option("--schedule-cron", help="When to enqueue due tenants (cron).")
    ] = "* * * * *",
    stalled_after: Annotated[
        float, typer.Option("--stalled-after", help="Seconds without a worker heartbeat.")
    ] = 60.0,
    heartbeat: Annotated[
        float, typer.Option("--heartbeat-interval", help="Seconds between worker heartbeats.")
    ] = 10.0,
    lease_ttl: LeaseOpt = "10m",
    enqueue_at_start: Annotated[
        bool,
        typer.Option(
            "--enqueue-at-start/--no-enqueue-at-start",
            help="Enqueue due tenants on start instead of at the next cron tick.",
        ),
    ] = True,
) -> None:
    """A scale-out worker: any number of them, on any machines, sharing one PostgreSQL."""
    from licensewatch.storage.encrypted import keyring_for
    from licensewatch.sync.scheduler import SyncOptions
    from licensewatch.sync.worker import (
        WorkerConfig,
        prepare_database,
        run_worker,
    )

    settings = _postgres_settings()
    ttl = _duration(lease_ttl)
    if heartbeat >= stalled_after:
        fail("--heartbeat-interval must be shorter than --stalled-after")
    with expected_errors():
        try:
            engine = prepare_database(settings.database_url)
        except psycopg.OperationalError as error:
            fail(f"database unreachable: {str(error).strip().splitlines()[0]}", ExitCode.FAILED)
        metrics = SyncMetrics()
        options = SyncOptions(keyring=keyring_for(engine, settings), lease_ttl=ttl, metrics=metrics)
    config = WorkerConfig(
        concurrency=concurrency,
        schedule_cron=schedule_cron,
        stalled_after=stalled_after,
        heartbeat_interval=heartbeat,
        enqueue_at_start=enqueue_at_start,
    )
    health = Health(engine, max_silence=float("inf"))
    server = _serve_metrics(metrics_host, metrics_port, metrics, health)
    try:
        with expected_errors():
            run_worker(settings.database_url, engine, options, config)
    finally:
        if server is not None:
            server.close()
        engine.dispose()


def enqueue(
    every: Annotated[
        bool, typer.Option("--all", help="Every tenant, due or not (their next run is now).")
    ] = False,
) -> None:
    """Enqueue a sync job for every due tenant now, for the workers (PostgreSQL)."""
    from licensewatch.storage.encrypted import keyring_for
    from licensewatch.sync.scheduler import SyncOptions, mark_all_due
    from licensewatch.sync.worker import (
        enqueue_now,
        prepare_database,
    )

    settings = _postgres_settings()
    with expected_errors():
        try:
            engine = prepare_database(settings.database_url)
        except psycopg.OperationalError as error:
            fail(f"database unreachable: {str(error).strip().splitlines()[0]}", ExitCode.FAILED)
        try:
            if every:
                mark_all_due(engine)
            options = SyncOptions(keyring=keyring_for(engine, settings))
            count = enqueue_now(settings.database_url, engine, options)
        finally:
            engine.dispose()
    stdout().print(f"enqueued {count} tenant sync(s) (tenants with a waiting job are skipped)")
    raise typer.Exit(ExitCode.OK)


def _when(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "-"
    seconds = (value - now).total_seconds()
    ago = seconds < 0
    seconds = abs(seconds)
    amount = (
        f"{seconds:.0f}s"
        if seconds < 90
        else f"{seconds / 60:.0f}m"
        if seconds < 5400
        else f"{seconds / 3600:.1f}h"
    )
    return f"{amount} ago" if ago else f"in {amount}"


def _print_table(rows: list[TenantStatus], now: datetime) -> None:
    columns = ["tenant", "last success", "next run", "users", "duration", "delta age"]
    columns += ["failures", "lease", "last error"]
    result = table("Sync status", columns, numeric=("users", "failures"))
    for row in rows:
        delta = f"{row.delta_age_seconds / 3600:.1f}h" if row.delta_age_seconds else "-"
        duration = f"{row.last_duration_seconds:.1f}s" if row.last_duration_seconds else "-"
        error = row.last_error if row.failing else "-"
        result.add_row(
            escape(row.name), _when(row.last_success_at, now), _when(row.next_sync_at, now),
            str(row.users), duration, delta, str(row.consecutive_failures),
            escape(row.lease_owner or "-"), escape(error or "-"),
            style="red" if row.failing else None,
        )  # fmt: skip
    stdout().print(result)


def status(
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.TABLE,
) -> None:
    """Per tenant: last success, last error and cause, next run, users, failures, lease."""
    from licensewatch.storage.database import make_engine
    from licensewatch.storage.models import utcnow

    settings = load_settings()
    with expected_errors():
        engine = make_engine(settings.database_url)
        try:
            now = utcnow()
            rows = tenant_status(engine, now)
        finally:
            engine.dispose()
    if output == OutputFormat.JSON:
        print_json([row.to_dict() for row in rows])
    elif output == OutputFormat.CSV:
        dicts = [row.to_dict() for row in rows]
        print_csv(dicts, list(dicts[0]) if dicts else ["name"])
    elif not rows:
        stdout().print("No tenants configured: licensewatch tenant add --help")
    else:
        _print_table(rows, now)
    raise typer.Exit(ExitCode.OK)


def register_daemon_commands(app: typer.Typer) -> None:
    """Adds `daemon`, `worker`, `enqueue` and `status`."""
    app.command("daemon")(daemon)
    app.command("worker")(worker)
    app.command("enqueue")(enqueue)
    app.command("status")(status)
