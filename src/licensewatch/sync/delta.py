"""Delta sync of one tenant: /users/delta changes applied in place to the current dataset."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, select, update

from licensewatch.graph.errors import GraphProtocolError
from licensewatch.storage.database import write_transaction
from licensewatch.storage.models import Tenant, utcnow
from licensewatch.storage.writers import (
    USER_COLUMNS,
    USER_LICENSE_COLUMNS,
    USER_LICENSES,
    USERS,
    write_user_licenses,
    write_users,
)
from licensewatch.sync import changes, collectors
from licensewatch.sync.changes import Assignment, ChangeLog, Counts, UserState
from licensewatch.sync.work import SyncWork, set_counts

# Delta cannot select signInActivity (learn.microsoft.com/graph/api/user-delta): a changed user
# keeps what the full read saw.
_SIGN_IN = ("last_sign_in_at", "last_non_interactive_sign_in_at", "last_successful_sign_in_at")
_SIGN_IN_AT = tuple(USER_COLUMNS.index(name) for name in _SIGN_IN)
_UPN_AT, _ENABLED_AT = (
    USER_COLUMNS.index("user_principal_name"),
    USER_COLUMNS.index("account_enabled"),
)
_SKU_AT, _GROUP_AT, _STATE_AT = (
    USER_LICENSE_COLUMNS.index(name) for name in ("sku_id", "assigned_by_group", "state")
)
_CHUNK = 500  # ids per IN list: well under SQLite's bound-variable limit


class DeltaUnavailable(Exception):
    """No usable deltaLink: the runner runs a full sync instead (`reason` says why)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class DeltaSync(SyncWork):
    """One delta run: every change, the inventory and the new deltaLink in ONE transaction."""

    def run(self) -> None:
        """Apply the changes since the stored deltaLink; raises on any failure (nothing stored)."""
        inventory = self.read_inventory()  # small and cheap: re-read on every run
        self._report("delta")
        with write_transaction(self.engine) as connection:
            dataset, link = self.lock_tenant(connection)
            if dataset is None or link is None:
                raise DeltaUnavailable("no_delta_link", "no deltaLink stored yet")
            try:
                self.client.url(link)
            except ValueError as exc:  # the tenant's Graph endpoint changed since
                raise DeltaUnavailable("delta_link_unusable", str(exc)) from exc
            before = changes.stored_skus(connection, self.tenant_id)
            totals: dict[str, Counts] = {
                sku_id: (row["direct_assigned"], row["group_assigned"], row["assignment_errors"])
                for sku_id, row in before.items()
            }
            history = ChangeLog(self.tenant_id, self.run_id, utcnow())
            new_link: str | None = None
            for page in self.client.iter_pages(link):
                self._apply(connection, dataset, page.items, totals, history)
                self.changes += history.flush(connection)
                self.pages_read += 1
                self._remember(page.request_id)
                self._report("delta")
                new_link = page.delta_link
            if new_link is None:
                raise GraphProtocolError("the delta round ended without a deltaLink", url=link)
            # SKUs new to the tenant: count them once by SQL; the others moved incrementally.
            fresh = [sku["sku_id"] for sku in inventory.skus if sku["sku_id"] not in before]
            recount = changes.sku_aggregates(connection, dataset, fresh) if fresh else {}
            for sku in inventory.skus:
                known = totals if sku["sku_id"] in before else recount
                set_counts(sku, known.get(sku["sku_id"], (0, 0, 0)))
            history.units(before, inventory.skus)
            now = utcnow()
            self.publish(connection, inventory, now)
            self.changes += history.flush(connection)
            values: dict[str, Any] = {"delta_link": new_link, "delta_link_at": now}
            values["updated_at"] = now
            if inventory.organization_name is not None:
                values["organization_name"] = inventory.organization_name
            connection.execute(update(Tenant).where(Tenant.id == self.tenant_id).values(values))
            self.complete(connection, now)

    def _apply(
        self,
        connection: Connection,
        dataset: int,
        items: Sequence[Any],
        totals: dict[str, Counts],
        history: ChangeLog,
    ) -> None:
        """Replace the page's users and their licences; replays and duplicates: last one wins."""
        latest: dict[str, Mapping[str, Any]] = {}
        for item in items:
            uid = collectors.user_id(item)
            if uid is not None:
                latest.pop(uid, None)
                latest[uid] = item
        if not latest:
            return
        users, licences = _current(connection, dataset, list(latest))
        user_rows: list[tuple[Any, ...]] = []
        licence_rows: list[tuple[Any, ...]] = []
        for uid, item in latest.items():
            old = users.get(uid)
            before = None
            if old is not None:
                before = UserState(
                    old.user_principal_name, old.account_enabled, licences.get(uid, {})
                )
            after: UserState | None = None
            if "@removed" not in item:
                row = collectors.user_row(dataset, self.tenant_id, item)
                if old is not None:
                    row = _keep_sign_in(row, old)
                user_rows.append(row)
                mine = {
                    (r[_SKU_AT], r[_GROUP_AT]): r for r in collectors.license_rows(dataset, item)
                }
                licence_rows.extend(mine.values())
                states = {key: r[_STATE_AT] for key, r in mine.items()}
                after = UserState(row[_UPN_AT], row[_ENABLED_AT], states)
            history.user(uid, before, after)
            changes.adjust(totals, before, after)
        write_users(connection, user_rows)
        write_user_licenses(connection, licence_rows)
        self.users_read += len(latest)


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _current(
    connection: Connection, dataset: int, ids: list[str]
) -> tuple[dict[str, Row[Any]], dict[str, dict[Assignment, str | None]]]:
    """The stored rows of these users (then deleted: the caller writes their new state)."""
    users: dict[str, Row[Any]] = {}
    licences: dict[str, dict[Assignment, str | None]] = {}
    u, lic = USERS.c, USER_LICENSES.c
    for chunk in _chunks(ids):
        mine = (u.dataset_id == dataset) & u.id.in_(chunk)
        columns = (u.id, u.user_principal_name, u.account_enabled, *(u[c] for c in _SIGN_IN))
        users.update((row.id, row) for row in connection.execute(select(*columns).where(mine)))
        held = (lic.dataset_id == dataset) & lic.user_id.in_(chunk)
        statement = select(lic.user_id, lic.sku_id, lic.assigned_by_group, lic.state).where(held)
        for user_id, sku_id, group, state in connection.execute(statement):
            licences.setdefault(user_id, {})[(sku_id, group)] = state
        connection.execute(delete(USER_LICENSES).where(held))
        connection.execute(delete(USERS).where(mine))
    return users, licences


def _keep_sign_in(row: tuple[Any, ...], old: Row[Any]) -> tuple[Any, ...]:
    values = list(row)
    for index, name in zip(_SIGN_IN_AT, _SIGN_IN, strict=True):
        values[index] = getattr(old, name)
    return tuple(values)
