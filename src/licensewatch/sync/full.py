"""Full sync of one tenant: stream users into a new dataset, then switch to it atomically."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Integer, bindparam, func, select, update

from licensewatch.graph.errors import GraphAuthorizationError, GraphError
from licensewatch.graph.paging import Page
from licensewatch.storage.database import read_transaction
from licensewatch.storage.models import (
    SyncRun,
    Tenant,
    utcnow,
)
from licensewatch.storage.queries import upn_share_starts
from licensewatch.storage.staging import UserStaging, write_direct
from licensewatch.storage.writers import USERS
from licensewatch.sync import changes, collectors, dataset_diff, row_builder, shard_run, user_stream
from licensewatch.sync.batch_writer import Batch, BatchWriter
from licensewatch.sync.shard_processes import ShardProcesses, process_count
from licensewatch.sync.shard_staging import ScratchStaging
from licensewatch.sync.shards import boundaries_from_sample, iter_user_pages_sharded, shard_filters
from licensewatch.sync.work import Inventory, SyncWork, set_counts

log = logging.getLogger(__name__)
USER_PAGE_SIZE = 999
# A staging batch is committed after this many users or seconds, whichever comes first.
FLUSH_USERS = 5_000
FLUSH_SECONDS = 1.0
SIGN_IN_PAGE_SIZE = 500  # Graph's maximum when signInActivity is selected
# The new dataset's users, counted once where they are published (a range of a (dataset_id, …)
# index; milliseconds beside the sync) so that readers never count them (issue 12).
_DATASET_USERS = (
    select(func.count())
    .select_from(USERS)
    .where(USERS.c.dataset_id == bindparam("run", type_=Integer()))
)


class FullSync(SyncWork):
    """One full sync's collection work; the runner owns the run row and failure handling."""

    previous_dataset: int | None = None
    # >1: read users through that many disjoint userPrincipalName ranges at once (sync/shards.py).
    shards: int = 1
    # >1 (0: one per core) with shards: the ranges are read, built and stored by that many
    # processes (sync/shard_processes.py) instead of threads of this one.
    shard_processes: int = 1
    delta_link: str | None = None
    delta_link_at: datetime | None = None
    # The one batch of a small tenant, written in the publishing transaction (not staged).
    direct: Batch | None = None

    def run(self, roles: frozenset[str], token_tenant: str | None) -> None:
        """Collect everything and commit the new dataset; raises on any failure."""
        with_sign_in = collectors.SIGN_IN_PERMISSION in roles
        with ExitStack() as stack:
            # Shard processes start now: their start-up overlaps the inventory read; they read
            # users only once the deltaLink is taken (`begin`), as a single process does.
            processes = self._start_processes(stack, with_sign_in=with_sign_in)
            begin = processes.begin if processes is not None else None
            inventory = self.read_inventory(partial(self._delta_link_then, begin))
            inventory.tenant_guid = inventory.tenant_guid or token_tenant
            scratch = processes.scratch if processes is not None else []
            with ScratchStaging(self.engine, scratch) as staging:
                staging.run_id = self.run_id
                if processes is None or not shard_run.stream(self, staging, processes):
                    if processes is not None:  # the ranges did not add up: read sequentially
                        self.shards = 1
                    self.stream_users(staging, with_sign_in=with_sign_in)
                self.commit(staging, inventory)

    def _delta_link_then(self, begin: Callable[[], None] | None) -> None:
        self.fetch_delta_link()
        if begin is not None:
            begin()

    def _start_processes(self, stack: ExitStack, *, with_sign_in: bool) -> ShardProcesses | None:
        """The shard processes of this run, started (None: this run reads in one process)."""
        if self.shards <= 1:
            return None
        count = process_count(self.shard_processes, self.shards)
        if count <= 1:
            return None
        processes = ShardProcesses(
            self.client,
            self.engine,
            run_id=self.run_id,
            tenant_id=self.tenant_id,
            filters=shard_filters(self.shards, self.boundaries() or None),
            processes=count,
            with_sign_in=with_sign_in,
            sizes={
                "top": USER_PAGE_SIZE,
                "sign_in_top": SIGN_IN_PAGE_SIZE,
                "flush_users": FLUSH_USERS,
                "flush_seconds": FLUSH_SECONDS,
            },
        )
        return stack.enter_context(processes)

    def fetch_delta_link(self) -> None:
        """A deltaLink for "now", taken before reading /users: changes during the read replay."""
        params = {"$select": user_stream.select(), "$deltatoken": "latest"}
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
        """Stage every user page of the new dataset, in short transactions.

        Each user is staged once per run (a set of ids for the whole run): a user repeated on a
        later page, after a staging flush, by another shard or by a restarted read is skipped,
        not a key violation.
        """
        self._report("users")
        seen: set[Any] = set()  # compact ids (`row_builder.compact_key`): ~86 bytes a user
        if with_sign_in:
            try:
                pages = self._user_pages(with_sign_in=True)
                self._stream(staging, pages, seen, with_sign_in=True)
                self.sign_in_data = True
                return
            except GraphAuthorizationError as exc:
                # 403 despite the role: no Entra ID P1/P2, consent not yet effective, or the
                # 403 real tenants answer intermittently on a later page. Read on without
                # signInActivity: users staged so far keep theirs and are not staged again.
                self._remember(exc.request_id)
                if self.pages_read:
                    log.warning(
                        "tenant %s: signInActivity refused on a later page (%s); reading the "
                        "other users without it",
                        self.tenant_id,
                        exc,
                    )
        self.sign_in_data = False
        self._stream(staging, self._user_pages(with_sign_in=False), seen, with_sign_in=False)

    def commit(self, staging: UserStaging, inventory: Inventory) -> None:
        """Users, inventory, aggregates, snapshot, change history, pointer flip: one transaction."""
        self._report("commit")
        now = utcnow()
        with staging.transaction() as connection:
            self.previous_dataset, _ = self.lock_tenant(connection)
            staging.publish(connection)
            if isinstance(staging, ScratchStaging) and staging.scratch:
                self.users_read = staging.moved  # the shard processes' users, each once
            if self.direct is not None:
                users, licences = self.direct
                write_direct(connection, users, licences, encoded=True)
                self.users_read += len(users)
                self.direct = None
            counts = changes.sku_aggregates(connection, self.run_id)
            for sku in inventory.skus:
                set_counts(sku, counts.get(sku["sku_id"], (0, 0, 0)))
            history = changes.ChangeLog(self.tenant_id, self.run_id, now)
            if self.previous_dataset is not None:  # the first sync is the baseline: no changes
                history.units(changes.stored_skus(connection, self.tenant_id), inventory.skus)
                self.changes = dataset_diff.record_dataset_diff(
                    connection, history, self.previous_dataset, self.run_id
                )
            self.publish(connection, inventory, now)
            self.changes += history.flush(connection)
            values: dict[str, Any] = {
                "dataset_id": self.run_id,
                "user_count": connection.scalar(_DATASET_USERS, {"run": self.run_id}) or 0,
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
            self.published(connection)
            self.complete(connection, now)

    def _user_pages(self, *, with_sign_in: bool) -> Iterator[Page]:
        """The user pages as Graph sends them (repeats included: the row builder skips them)."""
        fields = user_stream.select(with_sign_in=with_sign_in)
        top = SIGN_IN_PAGE_SIZE if with_sign_in else USER_PAGE_SIZE
        params = {"$select": fields, "$top": str(top)}
        if self.shards > 1:
            return iter_user_pages_sharded(
                self.client,
                params,
                shards=self.shards,
                boundaries=self.boundaries() or None,
                deduplicate=False,
            )
        return self.client.iter_pages("/users", params)

    def boundaries(self) -> list[str]:
        """Where the tenant's own stored users split evenly (none before its first sync: the
        default split): ranges of equal size finish together."""
        with read_transaction(self.engine) as connection:
            starts = upn_share_starts(connection, self.tenant_id, self.shards)
        return boundaries_from_sample(starts)

    def _stream(
        self, staging: UserStaging, pages: Iterator[Page], seen: set[Any], *, with_sign_in: bool
    ) -> None:
        """Stage users as pages arrive, a batch every FLUSH_USERS users or FLUSH_SECONDS.

        Rows are built by the stream's compiled builder for this `$select`, in the encoding the
        database takes, and written by a thread of their own (`BatchWriter`): the next page is
        built while the last batch is written. Batches bound memory and keep the run's heartbeat
        fresh; larger ones also mean fewer commits, which PostgreSQL's COPY still pays for.
        """
        build = row_builder.builder_for(with_sign_in=with_sign_in, encoding=staging.encoding)
        dataset, tenant = self.run_id, self.tenant_id
        users: list[tuple[Any, ...]] = []
        licences: list[tuple[Any, ...]] = []
        last_flush = time.monotonic()
        write = partial(self._flush, staging)
        threaded = not staging.deferred
        with BatchWriter(write, threaded=threaded, hold_below=FLUSH_USERS) as writer:
            try:
                for page in pages:
                    # Each user once per run: `seen` holds every id taken (compact keys).
                    build(page.items, dataset, tenant, seen, users, licences)
                    self.pages_read += 1
                    self._remember(page.request_id)
                    if len(users) >= FLUSH_USERS or time.monotonic() - last_flush >= FLUSH_SECONDS:
                        writer.submit(users, licences)
                        users, licences = [], []
                        last_flush = time.monotonic()
                    self._report("users")
            except GraphAuthorizationError:
                # The users taken so far count as seen: stage them before the read goes on
                # without signInActivity, or they would be skipped by it and lost.
                writer.submit(users, licences)
                writer.drain()
                raise
            writer.submit(users, licences)
            # A tenant whose users fit in one batch: its rows go into the publishing transaction.
            self.direct = writer.drain(keep_single=True)

    def _flush(
        self, staging: UserStaging, users: list[tuple[Any, ...]], licences: list[tuple[Any, ...]]
    ) -> None:
        with staging.transaction(relaxed=True) as connection:
            staging.append(connection, users, licences, encoded=True)
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
