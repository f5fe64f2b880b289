"""The sync metric set: run durations, pages, users, Graph requests, failures and tenant health."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from sqlalchemy import Engine, select

from licensewatch.storage.database import read_transaction
from licensewatch.storage.models import Tenant, TenantSchedule

DURATION_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
# The `*_created` series (a timestamp per label set) would double what every scrape carries and
# nothing here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus_client


class RunFigures(Protocol):
    """The figures of a finished run the metrics read (`sync.outcome.SyncResult` has them).

    A protocol, not an import: `sync` depends on `observability`, never the other way round.
    """

    @property
    def kind(self) -> object: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def users_read(self) -> int: ...
    @property
    def pages_read(self) -> int: ...
    @property
    def requests(self) -> int: ...
    @property
    def retries(self) -> int: ...
    @property
    def throttled(self) -> int: ...
    @property
    def error_kind(self) -> str | None: ...


class SyncMetrics:
    """Metrics of one daemon or worker process, rendered by its `/metrics` endpoint."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # A registry per instance, not prometheus_client's global one: tests make many.
        self.registry = r = registry or CollectorRegistry(auto_describe=True)
        by_tenant = ("tenant",)
        self.duration = Histogram(
            "licensewatch_sync_duration_seconds",
            "Duration of tenant syncs by outcome and kind (full, delta).",
            ("kind", "outcome"),
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.runs = Counter(
            "licensewatch_sync_runs_total",
            "Tenant syncs run, by outcome.",
            ("outcome", "tenant"),
            registry=r,
        )
        self.users = Counter(
            "licensewatch_sync_users_read_total", "Users read from Graph.", by_tenant, registry=r
        )
        self.pages = Counter(
            "licensewatch_sync_pages_read_total",
            "User pages read from Graph.",
            by_tenant,
            registry=r,
        )
        self.requests = Counter(
            "licensewatch_graph_requests_total", "Graph requests sent.", by_tenant, registry=r
        )
        self.retries = Counter(
            "licensewatch_graph_retries_total", "Graph requests retried.", by_tenant, registry=r
        )
        self.throttled = Counter(
            "licensewatch_graph_throttled_total",
            "Graph answers that throttled (429/503).",
            by_tenant,
            registry=r,
        )
        self.failures = Counter(
            "licensewatch_sync_failures_total",
            "Failed tenant syncs, by tenant and error kind.",
            ("kind", "tenant"),
            registry=r,
        )
        self.last_success = Gauge(
            "licensewatch_sync_last_success_timestamp_seconds",
            "Unix time of each tenant's last successful sync.",
            by_tenant,
            registry=r,
        )
        self.failing = Gauge(
            "licensewatch_tenants_failing",
            "Tenants whose latest sync failed (backing off).",
            registry=r,
        )
        self.in_flight = Gauge(
            "licensewatch_syncs_in_flight", "Tenant syncs running now.", registry=r
        )
        self.loop = Gauge(
            "licensewatch_daemon_loop_timestamp_seconds",
            "Unix time of the scheduler's last tick.",
            registry=r,
        )
        self._lock = threading.Lock()
        self._running = 0
        self.in_flight.set(0)

    @contextmanager
    def running(self) -> Iterator[None]:
        """Counts a sync as in flight while the block runs."""
        self._move(1)
        try:
            yield
        finally:
            self._move(-1)

    def _move(self, step: int) -> None:
        with self._lock:
            self._running += step
            self.in_flight.set(self._running)

    def observe(self, tenant: str, outcome: str, result: RunFigures | None) -> None:
        """Records one finished sync (outcome: completed, failed, cancelled or busy)."""
        self.runs.labels(outcome=outcome, tenant=tenant).inc()
        if result is None:
            if outcome == "failed":
                self.failures.labels(kind="setup", tenant=tenant).inc()
            return
        seconds = result.duration_ms / 1000
        self.duration.labels(kind=str(result.kind), outcome=outcome).observe(seconds)
        self.users.labels(tenant=tenant).inc(result.users_read)
        self.pages.labels(tenant=tenant).inc(result.pages_read)
        self.requests.labels(tenant=tenant).inc(result.requests)
        self.retries.labels(tenant=tenant).inc(result.retries)
        self.throttled.labels(tenant=tenant).inc(result.throttled)
        if outcome == "failed":
            kind = (result.error_kind or "unknown").split(":", 1)[0]
            self.failures.labels(kind=kind, tenant=tenant).inc()

    def refresh(self, engine: Engine) -> None:
        """Per-tenant gauges from the database, so every process reports the whole fleet."""
        statement = select(
            Tenant.name, TenantSchedule.last_success_at, TenantSchedule.consecutive_failures
        ).join(TenantSchedule, TenantSchedule.tenant_id == Tenant.id)
        with read_transaction(engine) as db:
            rows = db.execute(statement).all()
        failing = 0
        for name, last_success, failures in rows:
            failing += bool(failures)
            if last_success is not None:
                self.last_success.labels(tenant=name).set(last_success.timestamp())
        self.failing.set(failing)

    def render(self) -> str:
        """The Prometheus text format (what `/metrics` serves to a scraper that asks for it)."""
        return generate_latest(self.registry).decode()
