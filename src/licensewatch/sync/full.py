"""Full sync of one tenant: stream users into a new dataset, then switch to it atomically."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, case, delete, func, insert, select, update

from licensewatch.graph.client import GraphClient
from licensewatch.graph.errors import GraphAuthorizationError
from licensewatch.graph.paging import Page
from licensewatch.storage.database import staging_transaction, write_transaction
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
    UserLicense,
    utcnow,
)
from licensewatch.storage.writers import write_user_licenses, write_users
from licensewatch.sync import collectors

USER_PAGE_SIZE = 999
SIGN_IN_PAGE_SIZE = 500  # Graph's maximum when signInActivity is selected
ASSIGNED_STATES = ("Active", "ActiveWithError")
_KEEP_REQUEST_IDS = 20


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


class FullSync:
    """One full sync's collection work; the runner owns the run row and failure handling."""

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
        self.engine = engine
        self.tenant_id = tenant_id
        self.run_id = run_id
        self.client = client
        self.progress = progress
        self.users_read = 0
        self.pages_read = 0
        self.sign_in_data: bool | None = None
        self.request_ids: list[str] = []
        self.previous_dataset: int | None = None
        self.started = time.monotonic() if started is None else started

    # ---- steps ---------------------------------------------------------------------------------
    def run(self, roles: frozenset[str], token_tenant: str | None) -> None:
        """Collect everything and commit the new dataset; raises on any failure."""
        inventory = self.read_inventory()
        inventory.tenant_guid = inventory.tenant_guid or token_tenant
        self.stream_users(with_sign_in=collectors.SIGN_IN_PERMISSION in roles)
        self.commit(inventory)

    def read_inventory(self) -> Inventory:
        inventory = Inventory()
        self._report("inventory")
        org = self.client.get_json("/organization")
        inventory.organization_name, inventory.tenant_guid = collectors.organization(org)
        skus = self._all_items("/subscribedSkus", None)
        inventory.skus, inventory.plans = collectors.sku_rows(self.tenant_id, skus)
        subscriptions = self._all_items("/directory/subscriptions", None)
        inventory.subscriptions = collectors.subscription_rows(self.tenant_id, subscriptions)
        groups = self._all_items("/groups", {"$select": collectors.GROUP_FIELDS, "$top": 999})
        inventory.groups, inventory.group_licenses = collectors.group_rows(self.tenant_id, groups)
        return inventory

    def stream_users(self, *, with_sign_in: bool) -> None:
        """Write every user page into the new dataset, one short transaction per page."""
        self._report("users")
        if with_sign_in:
            try:
                self._stream(self._user_pages(with_sign_in=True))
                self.sign_in_data = True
                return
            except GraphAuthorizationError as exc:
                # 403 despite the role (no Entra ID P1/P2, or consent not yet effective).
                if self.pages_read:
                    raise
                self._remember(exc.request_id)
        self.sign_in_data = False
        self._stream(self._user_pages(with_sign_in=False))

    def commit(self, inventory: Inventory) -> None:
        """Replace inventory, compute aggregates, snapshot, flip the pointer: one transaction."""
        self._report("commit")
        now, stats = utcnow(), self.client.stats
        with write_transaction(self.engine) as connection:
            tenant = self._lock_tenant(connection)
            self.previous_dataset = tenant
            run_status = connection.scalar(select(SyncRun.status).where(SyncRun.id == self.run_id))
            if run_status != SyncStatus.RUNNING:
                raise RuntimeError(f"run {self.run_id} is {run_status}, no longer RUNNING")
            self._apply_aggregates(connection, inventory.skus)
            self._replace_inventory(connection, inventory)
            if inventory.skus:
                connection.execute(
                    insert(SkuSnapshot),
                    [
                        {
                            "run_id": self.run_id,
                            "tenant_id": self.tenant_id,
                            "sku_id": sku["sku_id"],
                            "captured_at": now,
                            **{k: sku[k] for k in _UNIT_KEYS},
                        }
                        for sku in inventory.skus
                    ],
                )
            values: dict[str, Any] = {
                "dataset_id": self.run_id,
                "last_full_sync_at": now,
                "sign_in_data": self.sign_in_data,
                "updated_at": now,
            }
            if inventory.organization_name is not None:
                values["organization_name"] = inventory.organization_name
            if inventory.tenant_guid is not None:
                values["resolved_tenant_id"] = inventory.tenant_guid
            connection.execute(update(Tenant).where(Tenant.id == self.tenant_id).values(values))
            connection.execute(
                update(SyncRun)
                .where(SyncRun.id == self.run_id)
                .values(
                    status=SyncStatus.COMPLETED,
                    finished_at=now,
                    users_read=self.users_read,
                    pages_read=self.pages_read,
                    heartbeat_at=now,
                    request_ids=self.request_ids[-_KEEP_REQUEST_IDS:],
                    duration_ms=int((time.monotonic() - self.started) * 1000),
                    requests=stats.requests,
                    retries=stats.retries,
                    throttled=stats.throttled,
                )
            )

    # ---- helpers -------------------------------------------------------------------------------
    def _user_pages(self, *, with_sign_in: bool) -> Iterator[Page]:
        fields = collectors.USER_FIELDS
        if with_sign_in:
            fields += "," + collectors.SIGN_IN_FIELD
        top = SIGN_IN_PAGE_SIZE if with_sign_in else USER_PAGE_SIZE
        return self.client.iter_pages("/users", {"$select": fields, "$top": top})

    def _stream(self, pages: Iterator[Page]) -> None:
        dataset, tenant = self.run_id, self.tenant_id
        for page in pages:
            users: list[tuple[Any, ...]] = []
            licences: list[tuple[Any, ...]] = []
            seen: set[str] = set()
            for item in page.items:
                uid = collectors.user_id(item)
                if uid is None or uid in seen:
                    continue  # nothing to key it on, or a replay within the page
                seen.add(uid)
                users.append(collectors.user_row(dataset, tenant, item))
                licences.extend(collectors.license_rows(dataset, item))
            with staging_transaction(self.engine) as connection:
                write_users(connection, users)
                write_user_licenses(connection, licences)
                self.users_read += len(users)
                self.pages_read += 1
                connection.execute(
                    update(SyncRun)
                    .where(SyncRun.id == self.run_id)
                    .values(
                        heartbeat_at=utcnow(),
                        users_read=self.users_read,
                        pages_read=self.pages_read,
                    )
                )
            self._remember(page.request_id)
            self._report("users")

    def _all_items(self, path: str, params: dict[str, str | int] | None) -> list[Any]:
        found: list[Any] = []
        for page in self.client.iter_pages(path, params, prefetch=False):
            found.extend(page.items)
            self._remember(page.request_id)
        return found

    def _lock_tenant(self, connection: Connection) -> int | None:
        statement = select(Tenant.dataset_id).where(Tenant.id == self.tenant_id)
        if connection.dialect.name == "postgresql":
            statement = statement.with_for_update()
        row = connection.execute(statement).one_or_none()
        if row is None:
            raise LookupError(f"tenant {self.tenant_id} was deleted during the sync")
        dataset: int | None = row[0]
        return dataset

    def _apply_aggregates(self, connection: Connection, skus: list[dict[str, Any]]) -> None:
        """Assignment counts per SKU, by SQL over the new dataset (distinct users)."""
        lic = UserLicense
        assigned = lic.state.in_(ASSIGNED_STATES)
        # As Microsoft counts them: assignments stuck outside an assigned state (Error, Disabled).
        failing = lic.state.is_(None) | lic.state.not_in(ASSIGNED_STATES)
        statement = (
            select(
                lic.sku_id,
                func.count(
                    func.distinct(case((assigned & lic.assigned_by_group.is_(None), lic.user_id)))
                ),
                func.count(
                    func.distinct(
                        case((assigned & lic.assigned_by_group.is_not(None), lic.user_id))
                    )
                ),
                func.count(case((failing, 1))),
            )
            .where(lic.dataset_id == self.run_id)
            .group_by(lic.sku_id)
        )
        counts = {row[0]: row[1:] for row in connection.execute(statement)}
        for sku in skus:
            direct, via_group, errors = counts.get(sku["sku_id"], (0, 0, 0))
            sku.update(direct_assigned=direct, group_assigned=via_group, assignment_errors=errors)

    def _replace_inventory(self, connection: Connection, inventory: Inventory) -> None:
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

    def _remember(self, request_id: str | None) -> None:
        if request_id:
            self.request_ids.append(request_id)
            del self.request_ids[: -_KEEP_REQUEST_IDS * 2]

    def _report(self, phase: str) -> None:
        if self.progress is not None:
            self.progress(SyncProgress(self.run_id, phase, self.users_read, self.pages_read))


_UNIT_KEYS = ("enabled", "warning", "suspended", "locked_out", "consumed")
