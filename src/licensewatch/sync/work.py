"""What full and delta runs share: the inventory read, its publication, the run's counters."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Integer, bindparam, delete, insert, select, update

from licensewatch.domain.changed_users import ChangedUsers
from licensewatch.graph.client import GraphClient
from licensewatch.storage.models import (
    Group,
    GroupLicense,
    Sku,
    SkuServicePlan,
    SkuSnapshot,
    Subscription,
    SyncRun,
    SyncStatus,
    Tenant,
)
from licensewatch.sync import changes, collectors

KEEP_REQUEST_IDS = 20
# The inventory reads of every sync in this process share one pool (threads are made as needed,
# then reused): five new threads per sync were a visible share of a small tenant's CPU in a
# fleet. 64: sixteen concurrent syncs never queue behind each other (no task waits on another).
_INVENTORY_POOL = ThreadPoolExecutor(64, thread_name_prefix="graph-inventory")


# The publish's statements, built once: for a fleet of small tenants, building and keying them
# per sync cost more CPU than the database took to run them.
_TENANT, _RUN = bindparam("tenant", type_=Integer()), bindparam("run", type_=Integer())
_INVENTORY = (SkuServicePlan, GroupLicense, Sku, Subscription, Group)  # children first
_CLEAR = [delete(model).where(model.tenant_id == _TENANT) for model in _INVENTORY]
_ADD = {model: insert(model) for model in (*_INVENTORY, SkuSnapshot)}
_COMPLETE = update(SyncRun).where(SyncRun.id == _RUN).values(status=SyncStatus.COMPLETED)
_POINTERS = select(Tenant.dataset_id, Tenant.delta_link).where(Tenant.id == _TENANT)
_POINTERS_LOCKED = _POINTERS.with_for_update()
_RUN_STATUS = select(SyncRun.status).where(SyncRun.id == _RUN)


class OnPublish(Protocol):
    """Runs inside the transaction that publishes a tenant's dataset (full or delta), after the
    tenant row names it: the caller passes the read models' build (`intelligence` is a layer
    beside `sync`), so they commit, or roll back, with the data they describe. A delta passes
    the users it changed (`changed`), so that the read models can follow those users only.
    `usage_follows`: usage reports are collected right after, whose commit (`OnUsage`) builds
    what rests on them: the publish need not build that in full as well."""

    def __call__(
        self,
        connection: Connection,
        tenant_pk: int,
        /,
        changed: ChangedUsers | None = None,
        *,
        usage_follows: bool = False,
    ) -> object: ...


# Runs inside the transaction that stores a tenant's usage reports (the recommendations' build).
OnUsage = Callable[[Connection, int], object]


@dataclass(slots=True)
class SyncProgress:
    """What a progress callback sees after each step."""

    run_id: int
    phase: str
    users_read: int = 0
    pages_read: int = 0


@dataclass(slots=True)
class Inventory:
    """The small, in-memory part of a tenant: organization, SKUs, subscriptions, licensed groups."""

    organization_name: str | None = None
    tenant_guid: str | None = None
    skus: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    group_licenses: list[dict[str, Any]] = field(default_factory=list)


class SyncWork:
    """What full and delta runs share: the client, counters, request ids and progress."""

    on_publish: OnPublish | None = None
    usage_follows = False  # passed to on_publish (only when set: callbacks written before it)

    def __init__(
        self,
        engine: Engine,
        tenant_id: int,
        run_id: int,
        client: GraphClient,
        progress: Callable[[SyncProgress], None] | None = None,
        *,
        started: float | None = None,
    ) -> None:
        self.engine, self.tenant_id, self.run_id = engine, tenant_id, run_id
        self.client, self.progress = client, progress
        self.users_read = self.pages_read = self.changes = 0
        self.sign_in_data: bool | None = None
        self.request_ids: list[str] = []
        self._request_ids_lock = threading.Lock()  # inventory reads run in threads
        self.started = time.monotonic() if started is None else started

    def read_inventory(self, *also: Callable[[], None]) -> Inventory:
        """Organization, SKUs, subscriptions and licensed groups, requested at once (and `also`).

        Each is one round trip; at Graph's latencies, asking in turn would cost four.
        """
        inventory = Inventory()
        self._report("inventory")
        group_params: dict[str, str | int] = {"$select": collectors.GROUP_FIELDS, "$top": 999}
        pool = _INVENTORY_POOL
        org = pool.submit(self.client.get_json, "/organization")
        skus = pool.submit(self._all_items, "/subscribedSkus", None)
        subscriptions = pool.submit(self._all_items, "/directory/subscriptions", None)
        groups = pool.submit(self._all_items, "/groups", group_params)
        others = [pool.submit(task) for task in also]
        try:
            # Results in a fixed order: the error raised does not depend on which answers first.
            inventory.organization_name, inventory.tenant_guid = collectors.organization(
                org.result()
            )
            inventory.skus, inventory.plans = collectors.sku_rows(self.tenant_id, skus.result())
            inventory.subscriptions = collectors.subscription_rows(
                self.tenant_id, subscriptions.result()
            )
            inventory.groups, inventory.group_licenses = collectors.group_rows(
                self.tenant_id, groups.result()
            )
            for other in others:
                other.result()
        finally:
            # On a failure too, no read of this sync outlives it (the client closes after it).
            pending: list[Future[Any]] = [org, skus, subscriptions, groups, *others]
            wait(pending)
        return inventory

    def publish(self, connection: Connection, inventory: Inventory, now: datetime) -> None:
        """Replace SKUs, plans, subscriptions and groups; snapshot the SKUs' units."""
        tenant = self.tenant_id
        for clear in _CLEAR:
            connection.execute(clear, {"tenant": tenant})
        for model, rows in (
            (Sku, inventory.skus),
            (SkuServicePlan, inventory.plans),
            (Subscription, inventory.subscriptions),
            (Group, inventory.groups),
            (GroupLicense, inventory.group_licenses),
        ):
            if rows:
                connection.execute(_ADD[model], rows)
        snapshot = [
            {"run_id": self.run_id, "tenant_id": tenant, "sku_id": sku["sku_id"]}
            | {"captured_at": now}
            | {k: sku[k] for k in _UNIT_KEYS}
            for sku in inventory.skus
        ]
        if snapshot:
            connection.execute(_ADD[SkuSnapshot], snapshot)

    def published(self, connection: Connection, changed: ChangedUsers | None = None) -> None:
        """The dataset is in place (uncommitted): let the caller's callback build on it."""
        # No progress report here: its callback may write (a lease renewal) on another
        # connection, which this open write transaction would block on SQLite.
        if self.on_publish is None:
            return
        extra: dict[str, Any] = {"usage_follows": True} if self.usage_follows else {}
        if changed is None:  # a full publish: callbacks written before `changed` work as ever
            self.on_publish(connection, self.tenant_id, **extra)
        else:
            self.on_publish(connection, self.tenant_id, changed=changed, **extra)

    def complete(self, connection: Connection, now: datetime) -> None:
        """Mark the run COMPLETED with its counters (inside the committing transaction)."""
        stats = self.client.stats
        connection.execute(
            _COMPLETE,
            {
                "run": self.run_id,
                "finished_at": now,
                "users_read": self.users_read,
                "pages_read": self.pages_read,
                "heartbeat_at": now,
                "request_ids": self.request_ids[-KEEP_REQUEST_IDS:],
                "duration_ms": int((time.monotonic() - self.started) * 1000),
                "requests": stats.requests,
                "retries": stats.retries,
                "throttled": stats.throttled,
            },
        )

    def lock_tenant(self, connection: Connection) -> tuple[int | None, str | None]:
        """(current dataset, stored deltaLink), row-locked; refuses a run no longer RUNNING."""
        locked = connection.dialect.name == "postgresql"
        statement = _POINTERS_LOCKED if locked else _POINTERS
        row = connection.execute(statement, {"tenant": self.tenant_id}).one_or_none()
        if row is None:
            raise LookupError(f"tenant {self.tenant_id} was deleted during the sync")
        status = connection.scalar(_RUN_STATUS, {"run": self.run_id})
        if status != SyncStatus.RUNNING:
            raise RuntimeError(f"run {self.run_id} is {status}, no longer RUNNING")
        return row[0], row[1]

    def _all_items(self, path: str, params: dict[str, str | int] | None) -> list[Any]:
        found: list[Any] = []
        for page in self.client.iter_pages(path, params, prefetch=False):
            found.extend(page.items)
            self._remember(page.request_id)
        return found

    def _remember(self, request_id: str | None) -> None:
        if request_id:
            with self._request_ids_lock:
                self.request_ids.append(request_id)
                del self.request_ids[: -KEEP_REQUEST_IDS * 2]

    def _report(self, phase: str) -> None:
        if self.progress is not None:
            self.progress(SyncProgress(self.run_id, phase, self.users_read, self.pages_read))


def set_counts(sku: dict[str, Any], counts: changes.Counts) -> None:
    sku["direct_assigned"], sku["group_assigned"], sku["assignment_errors"] = counts


_UNIT_KEYS = ("enabled", "warning", "suspended", "locked_out", "consumed")
