"""The sync metric set: run durations, pages, users, Graph requests, failures and tenant health."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy import Engine, select

from licensewatch.observability.metrics import Registry
from licensewatch.storage.database import read_transaction
from licensewatch.storage.models import Tenant, TenantSchedule


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

    def __init__(self, registry: Registry | None = None) -> None:
        self.registry = registry or Registry()
        r = self.registry
        self.duration = r.histogram(
            "licensewatch_sync_duration_seconds",
            "Duration of tenant syncs by outcome and kind (full, delta).",
        )
        self.runs = r.counter("licensewatch_sync_runs_total", "Tenant syncs run, by outcome.")
        self.users = r.counter("licensewatch_sync_users_read_total", "Users read from Graph.")
        self.pages = r.counter("licensewatch_sync_pages_read_total", "User pages read from Graph.")
        self.requests = r.counter("licensewatch_graph_requests_total", "Graph requests sent.")
        self.retries = r.counter("licensewatch_graph_retries_total", "Graph requests retried.")
        self.throttled = r.counter(
            "licensewatch_graph_throttled_total", "Graph answers that throttled (429/503)."
        )
        self.failures = r.counter(
            "licensewatch_sync_failures_total", "Failed tenant syncs, by tenant and error kind."
        )
        self.last_success = r.gauge(
            "licensewatch_sync_last_success_timestamp_seconds",
            "Unix time of each tenant's last successful sync.",
        )
        self.failing = r.gauge(
            "licensewatch_tenants_failing", "Tenants whose latest sync failed (backing off)."
        )
        self.in_flight = r.gauge("licensewatch_syncs_in_flight", "Tenant syncs running now.")
        self.loop = r.gauge(
            "licensewatch_daemon_loop_timestamp_seconds", "Unix time of the scheduler's last tick."
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
        self.runs.inc(tenant=tenant, outcome=outcome)
        if result is None:
            if outcome == "failed":
                self.failures.inc(tenant=tenant, kind="setup")
            return
        self.duration.observe(result.duration_ms / 1000, outcome=outcome, kind=str(result.kind))
        self.users.inc(result.users_read, tenant=tenant)
        self.pages.inc(result.pages_read, tenant=tenant)
        self.requests.inc(result.requests, tenant=tenant)
        self.retries.inc(result.retries, tenant=tenant)
        self.throttled.inc(result.throttled, tenant=tenant)
        if outcome == "failed":
            kind = (result.error_kind or "unknown").split(":", 1)[0]
            self.failures.inc(tenant=tenant, kind=kind)

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
                self.last_success.set(last_success.timestamp(), tenant=name)
        self.failing.set(failing)

    def render(self) -> str:
        return self.registry.render()
