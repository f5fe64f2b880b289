"""Syncs started by the web app: "Sync now", and the embedded daemon of `serve --with-daemon`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Connection, Engine, select

from licensewatch.services.tenants import TenantService
from licensewatch.settings import Settings
from licensewatch.storage.database import read_transaction
from licensewatch.storage.encrypted import keyring_for
from licensewatch.storage.models import Tenant, TenantSchedule, utcnow

log = logging.getLogger(__name__)

SyncFunction = Callable[[Engine, Settings, str], object]


def run_tenant_sync(engine: Engine, settings: Settings, tenant: str) -> object:
    """One sync of a tenant now, through the daemon's lease so it never overlaps a scheduled one."""
    # Imported here: the pages and the API must not need the sync engine to start.
    from licensewatch.intelligence.alerts import evaluate_alerts
    from licensewatch.intelligence.read_models.build import publish_read_models
    from licensewatch.intelligence.read_models.recommendations_build import (
        publish_recommendations,
    )
    from licensewatch.sync import leases
    from licensewatch.sync.scheduler import SyncOptions, sync_tenant_once

    keyring = keyring_for(engine, settings)
    tenant_pk = TenantService(engine, keyring).show(tenant).id
    leases.ensure_schedules(engine)
    options = SyncOptions(
        keyring=keyring,
        after_sync=evaluate_alerts,
        on_publish=publish_read_models,
        on_usage=publish_recommendations,
    )
    return sync_tenant_once(engine, tenant_pk, options, owner=leases.new_owner(), force=True)


def leased_tenants(engine: Engine, connection: Connection | None = None) -> set[str]:
    """Names of the tenants whose sync lease is held and unexpired, by any process.

    A page passes its request's connection: a second connection per request would let 10
    concurrent pages hold the pool's 10 and each wait for another (a 30 s timeout).
    """
    statement = (
        select(Tenant.name)
        .join(TenantSchedule, TenantSchedule.tenant_id == Tenant.id)
        .where(TenantSchedule.lease_owner.is_not(None), TenantSchedule.lease_expires_at > utcnow())
    )
    if connection is not None:
        return set(connection.scalars(statement))
    with read_transaction(engine) as db:
        return set(db.scalars(statement))


class SyncLauncher:
    """Runs "Sync now" requests in background threads, at most one per tenant at a time."""

    def __init__(self, engine: Engine, settings: Settings, sync: SyncFunction = run_tenant_sync):
        self.engine = engine
        self.settings = settings
        self._sync = sync
        self._running: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def running(self, connection: Connection | None = None) -> set[str]:
        """Tenants syncing now: started here, or with a live lease (another worker, the daemon)."""
        with self._lock:
            local = {name for name, thread in self._running.items() if thread.is_alive()}
        return local | leased_tenants(self.engine, connection)

    def launch(self, tenant: str) -> bool:
        """Starts a sync of the tenant; False when one is running (here or in another process)."""
        leased = tenant in leased_tenants(self.engine)
        with self._lock:
            current = self._running.get(tenant)
            if leased or (current is not None and current.is_alive()):
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


class EmbeddedDaemon:
    """The real daemon (`licensewatch daemon`) on a thread of the web process."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        from licensewatch.intelligence.alerts import evaluate_alerts
        from licensewatch.intelligence.read_models.build import publish_read_models
        from licensewatch.intelligence.read_models.recommendations_build import (
            publish_recommendations,
        )
        from licensewatch.intelligence.reports import send_due_reports
        from licensewatch.sync.daemon import Daemon
        from licensewatch.sync.scheduler import SyncOptions

        options = SyncOptions(
            keyring=keyring_for(engine, settings),
            after_sync=evaluate_alerts,
            send_reports=send_due_reports,
            on_publish=publish_read_models,
            on_usage=publish_recommendations,
        )
        self.daemon = Daemon(engine, options)
        self._thread = threading.Thread(target=self.daemon.run, name="daemon", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.daemon.stop("shutdown")
        self._thread.join(timeout)
