"""What changed between two states of a tenant: licence change history and SKU counts."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    select,
)

from licensewatch.storage.models import ChangeKind, LicenceChange, Sku, UserLicense
from licensewatch.storage.models.base import UTCDateTime
from licensewatch.storage.writers import USER_LICENSES, USERS

ASSIGNED_STATES = ("Active", "ActiveWithError")
UNIT_FIELDS = ("enabled", "warning", "suspended")
CHANGES: Table = LicenceChange.__table__  # type: ignore[assignment]
Assignment = tuple[str, str | None]  # (sku_id, assigned_by_group): NULL group = direct
Counts = tuple[int, int, int]  # per SKU: users assigned directly, via groups, failing assignments
_COLUMNS = [
    *("tenant_id", "run_id", "occurred_at", "kind"),
    *("user_id", "user_principal_name", "sku_id", "assigned_by_group"),
]


@dataclass(frozen=True, slots=True)
class UserState:
    """A user as change detection sees it: UPN, accountEnabled and licence → state."""

    upn: str | None
    enabled: bool | None
    licences: Mapping[Assignment, str | None]


class ChangeLog:
    """Change rows of one run, buffered and written in the run's committing transaction."""

    def __init__(self, tenant_id: int, run_id: int, occurred_at: datetime) -> None:
        self.tenant_id, self.run_id, self.occurred_at = tenant_id, run_id, occurred_at
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        kind: ChangeKind,
        *,
        user_id: str | None = None,
        upn: str | None = None,
        sku_id: str | None = None,
        group: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.rows.append(
            {
                "tenant_id": self.tenant_id,
                "run_id": self.run_id,
                "occurred_at": self.occurred_at,
                "kind": kind.value,
                "user_id": user_id,
                "user_principal_name": upn,
                "sku_id": sku_id,
                "assigned_by_group": group,
                "detail": detail,
            }
        )

    def user(self, user_id: str, before: UserState | None, after: UserState | None) -> None:
        """A user's changes between two states (None: the user does not exist)."""
        known = after or before
        if known is None:
            return  # created and deleted between two runs: never seen
        upn = known.upn
        if before is None:
            self.add(ChangeKind.USER_CREATED, user_id=user_id, upn=upn)
        elif after is None:
            self.add(ChangeKind.USER_DELETED, user_id=user_id, upn=upn)
        elif None not in (before.enabled, after.enabled) and before.enabled != after.enabled:
            kind = ChangeKind.ACCOUNT_ENABLED if after.enabled else ChangeKind.ACCOUNT_DISABLED
            self.add(kind, user_id=user_id, upn=upn)
        old = before.licences if before else {}
        new = after.licences if after else {}
        for kind, ours, theirs in (
            (ChangeKind.LICENCE_ADDED, new, old),
            (ChangeKind.LICENCE_REMOVED, old, new),
        ):
            for sku_id, group in sorted(ours.keys() - theirs.keys(), key=str):
                self.add(kind, user_id=user_id, upn=upn, sku_id=sku_id, group=group)

    def units(
        self, before: Mapping[str, Mapping[str, Any]], after: Iterable[Mapping[str, Any]]
    ) -> None:
        """units_changed rows for prepaidUnits that moved (a new SKU starts from 0)."""
        now = {sku["sku_id"]: sku for sku in after}
        for sku_id in sorted(before.keys() | now.keys()):
            was, sku = before.get(sku_id), now.get(sku_id)
            part = (sku or was or {}).get("sku_part_number")
            for name in UNIT_FIELDS:
                old_value = int(was[name]) if was else 0
                new_value = int(sku[name]) if sku else 0
                if old_value != new_value:
                    detail = {"sku_part_number": part, "units": name}
                    detail |= {"from": old_value, "to": new_value}
                    self.add(ChangeKind.UNITS_CHANGED, sku_id=sku_id, detail=detail)

    def flush(self, connection: Connection) -> int:
        """Insert the buffered rows; returns how many."""
        count = len(self.rows)
        if self.rows:
            connection.execute(insert(CHANGES), self.rows)
            self.rows = []
        return count


def stored_skus(connection: Connection, tenant_id: int) -> dict[str, dict[str, Any]]:
    """The tenant's SKU rows as last committed: units and assignment counts."""
    units = (Sku.enabled, Sku.warning, Sku.suspended)
    counts = (Sku.direct_assigned, Sku.group_assigned, Sku.assignment_errors)
    statement = select(Sku.sku_id, Sku.sku_part_number, *units, *counts).where(
        Sku.tenant_id == tenant_id
    )
    return {row.sku_id: dict(row._mapping) for row in connection.execute(statement)}


def record_dataset_diff(connection: Connection, history: ChangeLog, old: int, new: int) -> int:
    """Users and licences that differ between two datasets, by set-based SQL; returns the count."""
    for kind, ours, theirs in (
        (ChangeKind.LICENCE_ADDED, new, old),
        (ChangeKind.LICENCE_REMOVED, old, new),
    ):
        diff = _assignments(ours).except_(_assignments(theirs)).subquery()
        user = USERS.alias("holder")
        joined = diff.outerjoin(user, and_(user.c.dataset_id == ours, user.c.id == diff.c.user_id))
        source = select(
            diff.c.user_id, user.c.user_principal_name, diff.c.sku_id, diff.c.assigned_by_group
        ).select_from(joined)
        _insert(connection, history, kind, source)
    for kind, ours, theirs in (
        (ChangeKind.USER_CREATED, new, old),
        (ChangeKind.USER_DELETED, old, new),
    ):
        mine, other = USERS.alias("mine"), USERS.alias("other")
        gone = ~exists().where(other.c.dataset_id == theirs, other.c.id == mine.c.id)
        source = select(mine.c.id, mine.c.user_principal_name, _NULL, _NULL).where(
            mine.c.dataset_id == ours, gone
        )
        _insert(connection, history, kind, source)
    for kind, was in ((ChangeKind.ACCOUNT_ENABLED, False), (ChangeKind.ACCOUNT_DISABLED, True)):
        before, after = USERS.alias("before"), USERS.alias("after")
        source = select(after.c.id, after.c.user_principal_name, _NULL, _NULL).where(
            before.c.dataset_id == old,
            after.c.dataset_id == new,
            before.c.id == after.c.id,
            before.c.account_enabled.is_(was),
            after.c.account_enabled.is_(not was),
        )
        _insert(connection, history, kind, source)
    # rowcount of INSERT … SELECT is -1 on psycopg: count what this run wrote (indexed columns).
    written = select(func.count()).where(
        CHANGES.c.tenant_id == history.tenant_id,
        CHANGES.c.occurred_at == history.occurred_at,
        CHANGES.c.run_id == history.run_id,
    )
    return int(connection.scalar(written) or 0)


_NULL = literal(None, String(36))


def _assignments(dataset: int) -> Select[Any]:
    lic = USER_LICENSES.c
    return select(lic.user_id, lic.sku_id, lic.assigned_by_group).where(lic.dataset_id == dataset)


def _insert(
    connection: Connection, history: ChangeLog, kind: ChangeKind, source: Select[Any]
) -> None:
    rows = source.subquery()
    columns = list(rows.c)
    statement = insert(CHANGES).from_select(
        _COLUMNS,
        select(
            literal(history.tenant_id, Integer),
            literal(history.run_id, Integer),
            literal(history.occurred_at, UTCDateTime()),
            literal(kind.value, String(30)),
            *columns,
        ),
    )
    connection.execute(statement)


# ---- per-SKU assignment counts ------------------------------------------------------------------
def sku_aggregates(
    connection: Connection, dataset_id: int, sku_ids: Collection[str] | None = None
) -> dict[str, Counts]:
    """Assignment counts per SKU by SQL over a dataset (distinct users), optionally some SKUs."""
    lic = UserLicense
    assigned = lic.state.in_(ASSIGNED_STATES)
    # As Microsoft counts them: assignments stuck outside an assigned state (Error, Disabled).
    failing = lic.state.is_(None) | lic.state.not_in(ASSIGNED_STATES)
    direct = case((assigned & lic.assigned_by_group.is_(None), lic.user_id))
    grouped = case((assigned & lic.assigned_by_group.is_not(None), lic.user_id))
    statement = (
        select(
            lic.sku_id,
            func.count(func.distinct(direct)),
            func.count(func.distinct(grouped)),
            func.count(case((failing, 1))),
        )
        .where(lic.dataset_id == dataset_id)
        .group_by(lic.sku_id)
    )
    if sku_ids is not None:
        statement = statement.where(lic.sku_id.in_(list(sku_ids)))
    return {row[0]: (row[1], row[2], row[3]) for row in connection.execute(statement)}


def contribution(licences: Mapping[Assignment, str | None]) -> dict[str, Counts]:
    """One user's share of `sku_aggregates`: the same rules, for an incremental update."""
    shares: dict[str, list[int]] = {}
    for (sku_id, group), state in licences.items():
        share = shares.setdefault(sku_id, [0, 0, 0])
        if state in ASSIGNED_STATES:
            share[0 if group is None else 1] = 1
        else:
            share[2] += 1
    return {sku_id: (d, g, e) for sku_id, (d, g, e) in shares.items()}


def adjust(totals: dict[str, Counts], before: UserState | None, after: UserState | None) -> None:
    """Move SKU counts from a user's old state to its new one."""
    for sign, state in ((-1, before), (1, after)):
        if state is None:
            continue
        for sku_id, (d, g, e) in contribution(state.licences).items():
            old = totals.get(sku_id, (0, 0, 0))
            totals[sku_id] = (old[0] + sign * d, old[1] + sign * g, old[2] + sign * e)
