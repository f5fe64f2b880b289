"""What changed between two full datasets of a tenant, by set-based SQL (no per-user Python)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
)

from licensewatch.storage.models import ChangeKind
from licensewatch.storage.models.base import UTCDateTime
from licensewatch.storage.writers import USER_LICENSES, USERS
from licensewatch.sync.changes import ASSIGNED_STATES, CHANGES, ChangeLog, soft_deletes

_COLUMNS = [
    *("tenant_id", "run_id", "occurred_at", "kind"),
    *("user_id", "user_principal_name", "sku_id", "assigned_by_group", "detail"),
]


def record_dataset_diff(connection: Connection, history: ChangeLog, old: int, new: int) -> int:
    """Users and licences that differ between two datasets, by set-based SQL; returns the count."""
    _record_assignments(connection, history, old, new)
    for kind, ours, theirs in (
        (ChangeKind.USER_CREATED, new, old),
        (ChangeKind.USER_RESTORED, new, old),
        (ChangeKind.USER_DELETED, old, new),
    ):
        mine, other = USERS.alias("mine"), USERS.alias("other")
        gone = ~exists().where(other.c.dataset_id == theirs, other.c.id == mine.c.id)
        source = select(mine.c.id, mine.c.user_principal_name, _NULL, _NULL, _NO_JSON).where(
            mine.c.dataset_id == ours, gone
        )
        if kind != ChangeKind.USER_DELETED:  # a user back from deleted items is restored
            deleted = exists().where(
                soft_deletes(history.tenant_id, history.occurred_at),
                CHANGES.c.user_id == mine.c.id,
            )
            source = source.where(deleted if kind == ChangeKind.USER_RESTORED else ~deleted)
        _insert(connection, history, kind, source)
    for kind, was in ((ChangeKind.ACCOUNT_ENABLED, False), (ChangeKind.ACCOUNT_DISABLED, True)):
        before, after = USERS.alias("before"), USERS.alias("after")
        source = select(after.c.id, after.c.user_principal_name, _NULL, _NULL, _NO_JSON).where(
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
_NO_JSON: ColumnElement[Any] = cast(null(), JSON).label("detail")


def _record_assignments(connection: Connection, history: ChangeLog, old: int, new: int) -> None:
    """The `transition` rules in SQL: each assignment matched on (user, SKU, group) across runs."""
    json_object = func.json_build_object if connection.dialect.name == "postgresql" else None
    json_object = json_object or func.json_object

    def held_in(row: Any) -> ColumnElement[bool]:
        return func.coalesce(row.c.state, "").in_(ASSIGNED_STATES)

    for ours, theirs, gained in ((new, old, True), (old, new, False)):
        mine, other = USER_LICENSES.alias("mine"), USER_LICENSES.alias("other")
        user = USERS.alias("holder")
        matched = and_(
            other.c.dataset_id == theirs,
            other.c.user_id == mine.c.user_id,
            other.c.sku_id == mine.c.sku_id,
            func.coalesce(other.c.assigned_by_group, "")
            == func.coalesce(mine.c.assigned_by_group, ""),
        )
        absent = other.c.user_id.is_(None)
        other_held = ~absent & held_in(other)
        before, after = (other, mine) if gained else (mine, other)
        error = case((after.c.user_id.is_(None), before.c.error), else_=after.c.error)
        detail = json_object(
            literal_column("'from'"), before.c.state,
            literal_column("'to'"), after.c.state,
            literal_column("'error'"), error,
        ).label("detail")  # fmt: skip
        moved = absent | before.c.state.is_distinct_from(after.c.state)
        moved |= before.c.error.is_distinct_from(after.c.error)
        if gained:
            # New side: gained (now held, was not), or a state change seen from the new row.
            rules = [
                (ChangeKind.LICENCE_ADDED, held_in(mine) & ~other_held),
                (
                    ChangeKind.ASSIGNMENT_STATE_CHANGED,
                    ((held_in(mine) & other_held) | (~held_in(mine) & ~other_held)) & moved,
                ),
            ]
        else:
            # Old side: lost (was held, now not), or a failing/disabled assignment that went away.
            rules = [
                (ChangeKind.LICENCE_REMOVED, held_in(mine) & ~other_held),
                (ChangeKind.ASSIGNMENT_STATE_CHANGED, ~held_in(mine) & absent),
            ]
        joined = mine.outerjoin(other, matched).outerjoin(
            user, and_(user.c.dataset_id == ours, user.c.id == mine.c.user_id)
        )
        for kind, condition in rules:
            source = (
                select(
                    mine.c.user_id,
                    user.c.user_principal_name,
                    mine.c.sku_id,
                    mine.c.assigned_by_group,
                    detail,
                )
                .select_from(joined)
                .where(mine.c.dataset_id == ours, condition)
            )
            _insert(connection, history, kind, source)


def _insert(
    connection: Connection, history: ChangeLog, kind: ChangeKind, source: Select[Any]
) -> None:
    rows = source.subquery()
    statement = insert(CHANGES).from_select(
        _COLUMNS,
        select(
            literal(history.tenant_id, Integer),
            literal(history.run_id, Integer),
            literal(history.occurred_at, UTCDateTime()),
            literal(kind.value, String(30)),
            *rows.c,
        ),
    )
    connection.execute(statement)
