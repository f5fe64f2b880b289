"""Syncs started by the web app: "Sync now" and, with `serve --with-daemon`, periodic syncs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine, func, select

from licensewatch.security.crypto import load_keyring
from licensewatch.services.tenants import TenantService
from licensewatch.settings import Settings
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.base import utcnow
from licensewatch.storage.models.runs import SyncRun, SyncStatus
from licensewatch.storage.models.tenants import Tenant

log = logging.getLogger(__name__)
DEFAULT_INTERVAL = timedelta(hours=1)
TICK_SECONDS = 30.0

SyncFunction = Callable[[Engine, Settings, str], object]


def run_tenant_sync(engine: Engine, settings: Settings, tenant: str) -> object:
    """One full sync of a tenant through the sync engine; the run row records how it went."""
    # Imported here: the pages and the API must not need the sync engine to start.
    from licensewatch.sync.runner import run_sync

    service = TenantService(engine, load_keyring(settings))
    view = service.show(tenant)
    return run_sync(engine, view.id, service.connection_for(tenant))


class SyncLauncher:
    """Runs syncs in background threads, at most one per tenant at a time."""

    def __init__(self, engine: Engine, settings: Settings, sync: SyncFunction = run_tenant_sync):
        self.engine = engine
        self.settings = settings
        self._sync = sync
        self._running: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._scheduler: threading.Thread | None = None

    def running(self) -> set[str]:
        with self._lock:
            return {name for name, thread in self._running.items() if thread.is_alive()}

    def launch(self, tenant: str) -> bool:
        """Starts a sync of the tenant; False when one started here is still running."""
        with self._lock:
            current = self._running.get(tenant)
            if current is not None and current.is_alive():
                return False
            thread = threading.Thread(
                target=self._run, args=(tenant,), name=f"sync-{tenant}", daemon=True
            )
            self._running[tenant] = thread
            thread.start()
            return True

    def _run(self, tenant: str) -> None:
        try:
            self._sync(self.engine, self.settings, tenant)
        except Exception:
            # The run row records the failure for the sync page; the log keeps the traceback.
            log.exception("sync of tenant %s failed", tenant)

    def join(self, timeout: float | None = None) -> None:
        """Waits for the syncs started so far (tests, shutdown)."""
        with self._lock:
            threads = list(self._running.values())
        for thread in threads:
            thread.join(timeout)

    # -- periodic syncs (serve --with-daemon without the real daemon) ---------------------------
    def due_tenants(self) -> list[str]:
        """Tenants whose last completed run is older than their interval (or that never ran)."""
        now = utcnow()
        last = (
            select(SyncRun.tenant_id, func.max(SyncRun.finished_at).label("finished"))
            .where(SyncRun.status == SyncStatus.COMPLETED)
            .group_by(SyncRun.tenant_id)
            .subquery()
        )
        query = select(Tenant.name, Tenant.sync_interval_seconds, last.c.finished).outerjoin(
            last, last.c.tenant_id == Tenant.id
        )
        with session_scope(self.engine, write=False) as session:
            rows = session.execute(query).all()
        due = []
        for name, seconds, finished in rows:
            interval = timedelta(seconds=seconds) if seconds else DEFAULT_INTERVAL
            if finished is None or finished + interval <= now:
                due.append(name)
        return due

    def start_periodic(self, tick_seconds: float = TICK_SECONDS) -> None:
        if self._scheduler is not None:
            return
        self._scheduler = threading.Thread(
            target=self._loop, args=(tick_seconds,), name="sync-scheduler", daemon=True
        )
        self._scheduler.start()

    def _loop(self, tick_seconds: float) -> None:
        while not self._stop.is_set():
            try:
                for tenant in self.due_tenants():
                    self.launch(tenant)
            except Exception:
                log.exception("the sync scheduler failed to list due tenants")
            self._stop.wait(tick_seconds)

    def stop(self) -> None:
        self._stop.set()
        if self._scheduler is not None:
            self._scheduler.join(5)
