"""Full sync of one tenant: stream users into a new dataset, then switch to it atomically."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from licensewatch.graph.client import GraphClient
from licensewatch.graph.errors import GraphAuthorizationError, GraphError
from licensewatch.graph.paging import Page
from licensewatch.storage.database import read_transaction
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
    utcnow,
)
from licensewatch.storage.queries import upn_share_starts
from licensewatch.storage.staging import UserStaging
from licensewatch.sync import changes, collectors
from licensewatch.sync.shards import boundaries_from_sample, iter_user_pages_sharded

log = logging.getLogger(__name__)
USER_PAGE_SIZE = 999
# A staging batch is committed after this many users or seconds, whichever comes first.
FLUSH_USERS = 5_000
FLUSH_SECONDS = 1.0
SIGN_IN_PAGE_SIZE = 500  # Graph's maximum when signInActivity is selected
ASSIGNED_STATES = changes.ASSIGNED_STATES
KEEP_REQUEST_IDS = 20


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
        with ThreadPoolExecutor(4 + len(also), thread_name_prefix="graph-inventory") as pool:
            org = pool.submit(self.client.get_json, "/organization")
            skus = pool.submit(self._all_items, "/subscribedSkus", None)
            subscriptions = pool.submit(self._all_items, "/directory/subscriptions", None)
            groups = pool.submit(self._all_items, "/groups", group_params)
            others = [pool.submit(task) for task in also]
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
        return inventory

    def publish(self, connection: Connection, inventory: Inventory, now: datetime) -> None:
        """Replace SKUs, plans, subscriptions and groups; snapshot the SKUs' units."""
        tenant = self.tenant_id
        for model in (SkuServicePlan, GroupLicense, Sku, Subscription, Group):
            connection.execute(delete(model).where(model.tenant_id == tenant))
        for model, rows in (
            (Sku, inventory.skus),
            (SkuServicePlan, inventory.plans),
            (Subscription, inventory.subscriptions),
            (Group, inventory.groups),
            (GroupLicense, inventory.group_licenses),
        ):
            if rows:
                connection.execute(insert(model), rows)
        snapshot = [
            {"run_id": self.run_id, "tenant_id": tenant, "sku_id": sku["sku_id"]}
            | {"captured_at": now}
            | {k: sku[k] for k in _UNIT_KEYS}
            for sku in inventory.skus
        ]
        if snapshot:
            connection.execute(insert(SkuSnapshot), snapshot)

    def complete(self, connection: Connection, now: datetime) -> None:
        """Mark the run COMPLETED with its counters (inside the committing transaction)."""
        stats = self.client.stats
        connection.execute(
            update(SyncRun)
            .where(SyncRun.id == self.run_id)
            .values(
                status=SyncStatus.COMPLETED,
                finished_at=now,
                users_read=self.users_read,
                pages_read=self.pages_read,
                heartbeat_at=now,
                request_ids=self.request_ids[-KEEP_REQUEST_IDS:],
                duration_ms=int((time.monotonic() - self.started) * 1000),
                requests=stats.requests,
                retries=stats.retries,
                throttled=stats.throttled,
            )
        )

    def lock_tenant(self, connection: Connection) -> tuple[int | None, str | None]:
        """(current dataset, stored deltaLink), row-locked; refuses a run no longer RUNNING."""
        statement = select(Tenant.dataset_id, Tenant.delta_link).where(Tenant.id == self.tenant_id)
        if connection.dialect.name == "postgresql":
            statement = statement.with_for_update()
        row = connection.execute(statement).one_or_none()
        if row is None:
            raise LookupError(f"tenant {self.tenant_id} was deleted during the sync")
        status = connection.scalar(select(SyncRun.status).where(SyncRun.id == self.run_id))
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


class FullSync(SyncWork):
    """One full sync's collection work; the runner owns the run row and failure handling."""

    previous_dataset: int | None = None
    # >1: read users through that many disjoint userPrincipalName ranges at once (sync/shards.py).
    shards: int = 1
    delta_link: str | None = None
    delta_link_at: datetime | None = None

    def run(self, roles: frozenset[str], token_tenant: str | None) -> None:
        """Collect everything and commit the new dataset; raises on any failure."""
        inventory = self.read_inventory(self.fetch_delta_link)
        inventory.tenant_guid = inventory.tenant_guid or token_tenant
        with UserStaging(self.engine) as staging:
            self.stream_users(staging, with_sign_in=collectors.SIGN_IN_PERMISSION in roles)
            self.commit(staging, inventory)

    def fetch_delta_link(self) -> None:
        """A deltaLink for "now", taken before reading /users: changes during the read replay."""
        params = {"$select": collectors.USER_FIELDS, "$deltatoken": "latest"}
        try:
            for page in self.client.iter_pages("/users/delta", params, prefetch=False):
                self._remember(page.request_id)
                self.delta_link = page.delta_link
        except GraphError as exc:  # no delta here (B2C, some clouds): the next run is full too
            log.warning("tenant %s: no deltaLink (%s); next sync is full", self.tenant_id, exc)
            self._remember(exc.request_id)
            self.delta_link = None
        self.delta_link_at = utcnow() if self.delta_link else None

    def stream_users(self, staging: UserStaging, *, with_sign_in: bool) -> None:
        """Stage every user page of the new dataset, in short transactions."""
        self._report("users")
        if with_sign_in:
            try:
                self._stream(staging, self._user_pages(with_sign_in=True))
                self.sign_in_data = True
                return
            except GraphAuthorizationError as exc:
                # 403 despite the role (no Entra ID P1/P2, or consent not yet effective).
                if self.pages_read:
                    raise
                self._remember(exc.request_id)
        self.sign_in_data = False
        self._stream(staging, self._user_pages(with_sign_in=False))

    def commit(self, staging: UserStaging, inventory: Inventory) -> None:
        """Users, inventory, aggregates, snapshot, change history, pointer flip: one transaction."""
        self._report("commit")
        now = utcnow()
        with staging.transaction() as connection:
            self.previous_dataset, _ = self.lock_tenant(connection)
            staging.publish(connection)
            counts = changes.sku_aggregates(connection, self.run_id)
            for sku in inventory.skus:
                set_counts(sku, counts.get(sku["sku_id"], (0, 0, 0)))
            history = changes.ChangeLog(self.tenant_id, self.run_id, now)
            if self.previous_dataset is not None:  # the first sync is the baseline: no changes
                history.units(changes.stored_skus(connection, self.tenant_id), inventory.skus)
                self.changes = changes.record_dataset_diff(
                    connection, history, self.previous_dataset, self.run_id
                )
            self.publish(connection, inventory, now)
            self.changes += history.flush(connection)
            values: dict[str, Any] = {
                "dataset_id": self.run_id,
                "last_full_sync_at": now,
                "sign_in_data": self.sign_in_data,
                "delta_link": self.delta_link,
                "delta_link_at": self.delta_link_at,
                "updated_at": now,
            }
            if inventory.organization_name is not None:
                values["organization_name"] = inventory.organization_name
            if inventory.tenant_guid is not None:
                values["resolved_tenant_id"] = inventory.tenant_guid
            connection.execute(update(Tenant).where(Tenant.id == self.tenant_id).values(values))
            self.complete(connection, now)

    def _user_pages(self, *, with_sign_in: bool) -> Iterator[Page]:
        fields = collectors.USER_FIELDS
        if with_sign_in:
            fields += "," + collectors.SIGN_IN_FIELD
        top = SIGN_IN_PAGE_SIZE if with_sign_in else USER_PAGE_SIZE
        params = {"$select": fields, "$top": str(top)}
        if self.shards > 1:
            # Split where the tenant's own stored users split evenly (the default split before
            # its first sync): ranges of equal size finish together.
            with read_transaction(self.engine) as connection:
                starts = upn_share_starts(connection, self.tenant_id, self.shards)
            return iter_user_pages_sharded(
                self.client,
                params,
                shards=self.shards,
                boundaries=boundaries_from_sample(starts) or None,
            )
        return self.client.iter_pages("/users", params)

    def _stream(self, staging: UserStaging, pages: Iterator[Page]) -> None:
        """Stage users as pages arrive, a batch every FLUSH_USERS users or FLUSH_SECONDS.

        Batches bound memory and keep the run's heartbeat fresh; larger ones also mean fewer
        commits, which PostgreSQL's COPY into the indexed tables still pays for.
        """
        dataset, tenant = self.run_id, self.tenant_id
        users: list[tuple[Any, ...]] = []
        licences: list[tuple[Any, ...]] = []
        seen: set[str] = set()
        last_flush = time.monotonic()
        for page in pages:
            for item in page.items:
                uid = collectors.user_id(item)
                if uid is None or uid in seen:
                    continue  # nothing to key it on, or a replay
                seen.add(uid)
                users.append(collectors.user_row(dataset, tenant, item))
                licences.extend(collectors.license_rows(dataset, item))
            self.pages_read += 1
            self._remember(page.request_id)
            if len(users) >= FLUSH_USERS or time.monotonic() - last_flush >= FLUSH_SECONDS:
                self._flush(staging, users, licences)
                users, licences, seen = [], [], set()
                last_flush = time.monotonic()
            self._report("users")
        self._flush(staging, users, licences)

    def _flush(
        self, staging: UserStaging, users: list[tuple[Any, ...]], licences: list[tuple[Any, ...]]
    ) -> None:
        with staging.transaction(relaxed=True) as connection:
            staging.append(connection, users, licences)
            self.users_read += len(users)
            connection.execute(
                update(SyncRun)
                .where(SyncRun.id == self.run_id)
                .values(
                    heartbeat_at=utcnow(),
                    users_read=self.users_read,
                    pages_read=self.pages_read,
                )
            )


def set_counts(sku: dict[str, Any], counts: changes.Counts) -> None:
    sku["direct_assigned"], sku["group_assigned"], sku["assignment_errors"] = counts


_UNIT_KEYS = ("enabled", "warning", "suspended", "locked_out", "consumed")
