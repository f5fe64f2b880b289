"""The embedded daemon: syncs every tenant on its interval with a bounded pool of threads."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from sqlalchemy import Engine, update

from licensewatch.observability.health import Health
from licensewatch.observability.sync_metrics import SyncMetrics
from licensewatch.storage.database import write_transaction
from licensewatch.storage.models import SyncRun, SyncStatus, TenantSchedule, utcnow
from licensewatch.sync import leases
from licensewatch.sync.http_pool import SharedHttp
from licensewatch.sync.scheduler import (
    Outcome,
    SyncOptions,
    TenantOutcome,
    call_hook,
    due_tenants,
    sync_tenant_once,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    concurrency: int = 4
    tick_seconds: float = 1.0  # how often due tenants are looked for
    stop_timeout: float = 30.0  # how long a stop waits for in-flight syncs to reach a page end
    once: bool = False  # sync what is due now, then return
    refresh_seconds: float = 15.0  # new tenants' schedule rows, fleet gauges
    reports_seconds: float = 60.0  # send_due_reports


class Daemon:
    """Claims due tenants (leases) and runs them in a pool; `stop()` winds down gracefully."""

    def __init__(
        self,
        engine: Engine,
        options: SyncOptions,
        config: DaemonConfig | None = None,
        *,
        owner: str | None = None,
    ) -> None:
        self.engine = engine
        self.config = config or DaemonConfig()
        if options.metrics is None:
            options.metrics = SyncMetrics()
        self._own_http = options.http is None and options.client_factory is None
        if self._own_http:
            options.http = SharedHttp(self.config.concurrency)
        self.options = options
        self.metrics: SyncMetrics = options.metrics
        self.owner = owner or leases.new_owner()
        self.health = Health(engine, max_silence=max(30.0, self.config.tick_seconds * 10))
        self.outcomes: deque[TenantOutcome] = deque(maxlen=10_000)  # the latest, for callers
        self._failures = 0
        self._stop = threading.Event()
        self._reason = "shutdown"
        self._inflight: dict[Future[TenantOutcome], int] = {}
        self._attempted: set[int] = set()
        self.stuck = False  # syncs that did not stop within stop_timeout (their threads live on)

    # ---- control ---------------------------------------------------------------------------
    def stop(self, reason: str = "shutdown") -> None:
        """Stop claiming; in-flight syncs stop at their next page (thread- and signal-safe)."""
        self._reason = reason
        self.health.stopping = True
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _should_stop(self) -> str | None:
        return self._reason if self._stop.is_set() else None

    # ---- loop ------------------------------------------------------------------------------
    def run(self) -> int:
        """Run until stopped (or, with `once`, until nothing is due); 1 if `once` saw a failure."""
        pool = ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="licensewatch-sync")
        log.info("daemon %s started (concurrency %s)", self.owner, self.config.concurrency)
        refreshed = reported = float("-inf")
        try:
            while not self._stop.is_set():
                self.health.tick()
                self.metrics.loop.set(time.time())
                self._reap()
                try:
                    if time.monotonic() - refreshed >= self.config.refresh_seconds:
                        leases.ensure_schedules(self.engine)
                        self.metrics.refresh(self.engine)
                        refreshed = time.monotonic()
                    started = self._start_due(pool)
                    if time.monotonic() - reported >= self.config.reports_seconds:
                        self._send_reports()
                        reported = time.monotonic()
                except Exception:  # the database may be down: /healthz says so; keep trying
                    log.exception("scheduler tick failed")
                    started = 1
                if self.config.once and not started and not self._inflight:
                    break
                self._wait_tick()
        finally:
            self._wind_down(pool)
        try:
            self.metrics.refresh(self.engine)
        except Exception:  # the database is gone: the exit code still says how the syncs went
            log.warning("could not refresh the metrics at exit", exc_info=True)
        return 1 if self.config.once and self._failures else 0

    def _send_reports(self) -> None:
        hook, keyring = self.options.send_reports, self.options.keyring
        if hook is not None:
            call_hook("send_reports", hook, self.engine, utcnow(), keyring=keyring)

    def _wait_tick(self) -> None:
        if self._inflight:
            wait(
                list(self._inflight), timeout=self.config.tick_seconds, return_when=FIRST_COMPLETED
            )
        else:
            self._stop.wait(self.config.tick_seconds)

    def _start_due(self, pool: ThreadPoolExecutor) -> int:
        free = self.config.concurrency - len(self._inflight)
        if free <= 0:
            return 0
        busy = set(self._inflight.values())
        if self.config.once:
            busy |= self._attempted
        started = 0
        for tenant_pk in due_tenants(self.engine, limit=free, exclude=busy):
            if self._stop.is_set():
                break
            future = pool.submit(self._sync, tenant_pk)
            self._inflight[future] = tenant_pk
            if self.config.once:
                self._attempted.add(tenant_pk)
            started += 1
        return started

    def _sync(self, tenant_pk: int) -> TenantOutcome:
        return sync_tenant_once(
            self.engine, tenant_pk, self.options, owner=self.owner, should_stop=self._should_stop
        )

    def _reap(self) -> None:
        for future in [f for f in self._inflight if f.done()]:
            tenant_pk = self._inflight.pop(future)
            try:
                outcome = future.result()
            except Exception:
                log.exception("the sync of tenant %s crashed", tenant_pk)
                outcome = TenantOutcome(tenant_pk, Outcome.FAILED)
            self._failures += outcome.outcome == Outcome.FAILED
            self.outcomes.append(outcome)

    def _wind_down(self, pool: ThreadPoolExecutor) -> None:
        """Wait (bounded) for in-flight syncs; whatever is left is recorded as cancelled."""
        self.stop(self._reason)
        if self._inflight:
            log.info("stopping: waiting up to %.0f s for %s sync(s)", *self._waiting())
            wait(list(self._inflight), timeout=self.config.stop_timeout)
        self._reap()
        left = sorted(self._inflight.values())
        pool.shutdown(wait=False, cancel_futures=True)
        try:
            if left:
                self.stuck = True
                log.warning("stopping: tenants %s did not stop in time", left)
                self._cancel_runs(left)
            leases.release_all(self.engine, self.owner)
        except Exception:  # leases expire by themselves; runs are abandoned by the next claim
            log.exception("could not release the leases of %s", self.owner)
        if self._own_http and self.options.http is not None and not left:
            self.options.http.close()  # a stuck sync may still be using them: left to the exit
        log.info("daemon %s stopped", self.owner)

    def _waiting(self) -> tuple[float, int]:
        return self.config.stop_timeout, len(self._inflight)

    def _cancel_runs(self, tenant_pks: list[int]) -> None:
        # We hold these tenants' leases, so their RUNNING runs are ours. FAILED now means a late
        # commit of the stuck thread is refused (it checks for RUNNING): the pointer stays put.
        with write_transaction(self.engine) as db:
            db.execute(
                update(TenantSchedule)
                .where(TenantSchedule.tenant_id.in_(tenant_pks))
                .where(TenantSchedule.lease_owner == self.owner)
                .values(next_sync_at=utcnow())
            )
            db.execute(
                update(SyncRun)
                .where(SyncRun.tenant_id.in_(tenant_pks), SyncRun.status == SyncStatus.RUNNING)
                .values(
                    status=SyncStatus.FAILED,
                    finished_at=utcnow(),
                    error_kind="SyncCancelled",
                    error_message=f"cancelled: {self._reason} (did not stop in time)",
                )
            )
