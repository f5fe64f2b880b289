"""`licensewatch daemon`, `worker` and `enqueue`: scheduled syncs and scale-out."""

from __future__ import annotations

import logging
import os
import signal
from datetime import timedelta
from types import FrameType
from typing import Annotated

import psycopg
import typer

from licensewatch.cli.output import (
    ExitCode,
    expected_errors,
    fail,
    info,
    stdout,
)
from licensewatch.domain.schedule import parse_duration
from licensewatch.observability.health import Health
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
        server = MetricsServer(host, port, metrics.registry, health.check)
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
    from licensewatch.intelligence.alerts import evaluate_alerts
    from licensewatch.intelligence.read_models.build import publish_read_models
    from licensewatch.intelligence.read_models.recommendations_build import (
        publish_recommendations,
    )
    from licensewatch.intelligence.reports import send_due_reports
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
            keyring=keyring_for(engine, settings),
            lease_ttl=ttl,
            metrics=SyncMetrics(),
            after_sync=evaluate_alerts,
            send_reports=send_due_reports,
            on_publish=publish_read_models,
            on_usage=publish_recommendations,
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
    from licensewatch.intelligence.alerts import evaluate_alerts
    from licensewatch.intelligence.read_models.build import publish_read_models
    from licensewatch.intelligence.read_models.recommendations_build import (
        publish_recommendations,
    )
    from licensewatch.intelligence.reports import send_due_reports
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
        options = SyncOptions(
            keyring=keyring_for(engine, settings),
            lease_ttl=ttl,
            metrics=metrics,
            after_sync=evaluate_alerts,
            send_reports=send_due_reports,
            on_publish=publish_read_models,
            on_usage=publish_recommendations,
        )
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
