"""Delta sync of one tenant: /users/delta changes applied in place to the current dataset."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, select, update

from licensewatch.domain.changed_users import (
    ATTRIBUTES,
    MOST_FOLLOWED,
    ChangedUsers,
    UserBefore,
)
from licensewatch.graph.errors import GraphProtocolError
from licensewatch.storage.database import write_transaction
from licensewatch.storage.models import SyncRun, Tenant, utcnow
from licensewatch.storage.writers import (
    USER_COLUMNS,
    USER_LICENSE_COLUMNS,
    USER_LICENSES,
    USERS,
    write_user_licenses,
    write_users,
)
from licensewatch.sync import changes, collectors, licence_states, user_inputs
from licensewatch.sync.changes import Assignment, AssignmentState, ChangeLog, Counts, UserState
from licensewatch.sync.work import SyncWork, set_counts

# Delta cannot select signInActivity (learn.microsoft.com/graph/api/user-delta): a changed user
# keeps what the full read saw.
_SIGN_IN = ("last_sign_in_at", "last_non_interactive_sign_in_at", "last_successful_sign_in_at")
_SIGN_IN_AT = tuple(USER_COLUMNS.index(name) for name in _SIGN_IN)
_UPN_AT, _ENABLED_AT = (
    USER_COLUMNS.index("user_principal_name"),
    USER_COLUMNS.index("account_enabled"),
)
_SKU_AT, _GROUP_AT, _STATE_AT, _ERROR_AT = (
    USER_LICENSE_COLUMNS.index(name) for name in ("sku_id", "assigned_by_group", "state", "error")
)
_CHUNK = 500  # ids per IN list: well under SQLite's bound-variable limit
RECONCILE_NOTE = "licence_states_unread"
RECONCILE_MESSAGE = (
    "some users came without licenseAssignmentStates and could not be read by id: their stored "
    "licences were kept; the next sync is full"
)


class DeltaUnavailable(Exception):
    """No usable deltaLink: the runner runs a full sync instead (`reason` says why)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class DeltaSync(SyncWork):
    """One delta run: every change, the inventory and the new deltaLink in ONE transaction."""

    # Set when some users' licence states could not be read: their stored states were kept and
    # the deltaLink is dropped, so the next run is a full sync that reconciles them.
    reconcile = False
    # The userPrincipalNames of the users this run replaced or removed, as stored and as written;
    # their ids; and what those that existed were before this run (the first time each is seen).
    touched: set[str | None]
    changed_ids: set[str]
    before: dict[str, UserBefore]
    following: bool  # False past MOST_FOLLOWED users: the read models are rebuilt instead
    # Users added minus users removed so far: moves `tenants.user_count` with the same commit.
    user_change: int = 0

    def _follow(
        self, uid: str, old: Row[Any] | None, licences: dict[Assignment, AssignmentState]
    ) -> None:
        """Remember a changed user for the read models (what it was: the first time it is seen,
        not as an earlier page of this run wrote it)."""
        if not self.following:
            return
        if uid not in self.changed_ids:
            self.changed_ids.add(uid)
            if old is not None:
                self.before[uid] = _before(old, licences)
        if old is not None:
            self.touched.add(old.user_principal_name)
        if len(self.changed_ids) > MOST_FOLLOWED:
            self.following = False
            self.touched, self.changed_ids, self.before = set(), set(), {}

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
            previous = connection.scalar(
                select(Tenant.updated_at).where(Tenant.id == self.tenant_id)
            )
            self.touched, self.changed_ids, self.before = set(), set(), {}
            self.following = True
            self.user_change = 0
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
            # Products, plans or groups that changed reach every user's findings: rebuild them.
            same = user_inputs.stored_facts(connection, self.tenant_id) == (
                user_inputs.inventory_facts(inventory)
            )
            self.publish(connection, inventory, now)
            self.changes += history.flush(connection)
            if self.reconcile:
                new_link = None
            values: dict[str, Any] = {"delta_link": new_link, "delta_link_at": now}
            # Relative: the tenant row is locked (`lock_tenant`) since its users were read.
            values["user_count"] = Tenant.user_count + self.user_change
            values["updated_at"] = now
            if inventory.organization_name is not None:
                values["organization_name"] = inventory.organization_name
            connection.execute(update(Tenant).where(Tenant.id == self.tenant_id).values(values))
            changed = None
            if same and self.following:
                ids = frozenset(self.changed_ids)
                changed = ChangedUsers(frozenset(self.touched), previous, ids, self.before)
            self.published(connection, changed)
            self.complete(connection, now)
            if self.reconcile:  # a note on the completed run, as the delta fallbacks write
                connection.execute(
                    update(SyncRun)
                    .where(SyncRun.id == self.run_id)
                    .values(error_kind=RECONCILE_NOTE, error_message=RECONCILE_MESSAGE)
                )

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
        users, licences, stored_rows = _current(connection, dataset, list(latest))
        # Graph does not track licenseAssignmentStates on /users/delta: an item may come without
        # it. Read those users' states by id; never take their assignedLicenses as direct ones.
        missing = {uid for uid, item in latest.items() if licence_states.lacks_states(item)}
        fetched = licence_states.fetch(self.client, missing) if missing else {}
        if fetched is None:
            self.reconcile, fetched = True, {}
        fresh = [uid for uid, item in latest.items() if uid not in users and "@removed" not in item]
        restored = changes.soft_deleted(connection, self.tenant_id, fresh, history.occurred_at)
        user_rows: list[tuple[Any, ...]] = []
        licence_rows: list[tuple[Any, ...]] = []
        for uid, item in latest.items():
            old = users.get(uid)
            before = None
            self._follow(uid, old, licences.get(uid, {}))
            if old is not None:
                before = UserState(
                    old.user_principal_name, old.account_enabled, licences.get(uid, {})
                )
            after: UserState | None = None
            removed = item.get("@removed")
            if removed is None:
                row = collectors.user_row(dataset, self.tenant_id, item)
                if old is not None:
                    row = _keep_sign_in(row, old)
                user_rows.append(row)
                if uid not in missing:
                    new_rows = collectors.license_rows(dataset, item)
                elif uid in fetched:
                    states = {"id": uid, licence_states.STATES: fetched[uid]}
                    new_rows = collectors.license_rows(dataset, states)
                else:  # unknown: keep what the last runs saw
                    new_rows = stored_rows.get(uid, [])
                mine = {(r[_SKU_AT], r[_GROUP_AT]): r for r in new_rows}
                licence_rows.extend(mine.values())
                states_now = {key: (r[_STATE_AT], r[_ERROR_AT]) for key, r in mine.items()}
                after = UserState(row[_UPN_AT], row[_ENABLED_AT], states_now)
                if self.following:
                    self.touched.add(row[_UPN_AT])
            reason = collectors.text(collectors.mapping(removed).get("reason"))
            history.user(uid, before, after, removed=reason, restored=uid in restored)
            changes.adjust(totals, before, after)
        write_users(connection, user_rows)
        write_user_licenses(connection, licence_rows)
        # `_current` deleted the stored rows of every user of the page; these are written anew.
        self.user_change += len(user_rows) - len(users)
        self.users_read += len(latest)


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _current(
    connection: Connection, dataset: int, ids: list[str]
) -> tuple[
    dict[str, Row[Any]],
    dict[str, dict[Assignment, AssignmentState]],
    dict[str, list[tuple[Any, ...]]],
]:
    """The stored rows of these users (then deleted: the caller writes their new state).

    Returns the users, their licences as (state, error) by assignment, and the licence rows.
    """
    users: dict[str, Row[Any]] = {}
    licences: dict[str, dict[Assignment, AssignmentState]] = {}
    rows: dict[str, list[tuple[Any, ...]]] = {}
    u, lic = USERS.c, USER_LICENSES.c
    for chunk in _chunks(ids):
        mine = (u.dataset_id == dataset) & u.id.in_(chunk)
        columns = (u.id, u.user_principal_name, u.account_enabled, *(u[c] for c in _SIGN_IN))
        columns += tuple(u[name] for name in ATTRIBUTES)
        users.update((row.id, row) for row in connection.execute(select(*columns).where(mine)))
        held = (lic.dataset_id == dataset) & lic.user_id.in_(chunk)
        statement = select(*(lic[name] for name in USER_LICENSE_COLUMNS)).where(held)
        for stored in connection.execute(statement):
            row = tuple(stored)
            key = (row[_SKU_AT], row[_GROUP_AT])
            licences.setdefault(stored.user_id, {})[key] = (row[_STATE_AT], row[_ERROR_AT])
            rows.setdefault(stored.user_id, []).append(row)
        connection.execute(delete(USER_LICENSES).where(held))
        connection.execute(delete(USERS).where(mine))
    return users, licences, rows


def _before(old: Row[Any], licences: dict[Assignment, AssignmentState]) -> UserBefore:
    held = frozenset(sku for (sku, _), (state, _) in licences.items() if changes.held(state))
    return UserBefore(tuple(getattr(old, name) for name in ATTRIBUTES), held)


def _keep_sign_in(row: tuple[Any, ...], old: Row[Any]) -> tuple[Any, ...]:
    values = list(row)
    for index, name in zip(_SIGN_IN_AT, _SIGN_IN, strict=True):
        kept = getattr(old, name)
        # A year-1 sentinel stored before it was read as "never" is dropped here too.
        values[index] = None if kept is not None and kept.year <= 1 else kept
    return tuple(values)
