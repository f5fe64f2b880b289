"""Users of one dataset in index order, read a bounded window at a time: no request scans a tenant.

A list is one or more runs, each an index range read by (key, id): the users list is the users
without a UPN (by id), then the others by UPN; a search is the UPN prefix matches, then the
display-name-only ones. A page continues after a position (run, key, id): positions name sort
keys, not rows, so a cursor stays valid when a sync replaces or edits the rows between pages.

Filters that no index serves (account state, department, "holds product X") are applied to a
window of the index range at a time: a page stops when it is full or when it has read BUDGET
users, and then says where it stopped (its frontier), so the next page continues from there.
A filter nobody matches costs BUDGET index entries per page, not a scan of the tenant.

A walk reads the users' own indexes, or a list a publish stored in the same order (`Source`:
the unlicensed users, web/queries/user_list.py), joined to the users for their columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, FromClause, Row, and_, select

from licensewatch.storage.models.inventory import User
from licensewatch.web.queries.keyset import Column, after

WINDOW = 2_000  # index entries per window (the first ones are smaller: _first_window)
BUDGET = 5_000  # index entries one page may read before it stops and says where
END = (1 << 30, "", "")  # a position past every row: the walk is exhausted


@dataclass(frozen=True)
class Run:
    """One stretch of a list: users in `key` order (key never NULL here), within an index range."""

    key: Column
    within: tuple[ColumnElement[bool], ...] = ()  # the index range (besides the dataset)
    only: tuple[ColumnElement[bool], ...] = ()  # per-row conditions of this run, outside the index


Position = tuple[int, Any, str]  # (run, key, user id)


@dataclass(frozen=True)
class Source:
    """Where the runs' index ranges are: the users, or a stored list of (dataset, ..., user id)."""

    dataset: Column
    id: Column
    table: FromClause | None = None  # a stored list, joined to the users (None: the users)


USERS = Source(User.dataset_id, User.id)


@dataclass
class Walked:
    """Rows of one dataset after a position, and how far the dataset was examined."""

    rows: list[tuple[Position, Row[Any]]]
    frontier: Position  # every row up to here was considered (END: the dataset is exhausted)


def walk(
    connection: Connection,
    dataset: int,
    runs: Sequence[Run],
    columns: Sequence[Column],
    filters: Sequence[ColumnElement[bool]],
    start: Position | None,
    want: int,
    *,
    inclusive: bool = False,
    source: Source = USERS,
) -> Walked:
    """Up to `want` users of `dataset` passing `filters`, in list order, after `start` (or from
    it, `inclusive`), read from the runs' ranges of `source`."""
    rows: list[tuple[Position, Row[Any]]] = []
    budget, size = BUDGET, 0
    first_run = 0 if start is None else start[0]
    for index in range(first_run, len(runs)):
        run = runs[index]
        seek = start[1:] if start is not None and start[0] == index else None
        from_seek = inclusive
        while True:
            need = want - len(rows)
            if need <= 0:
                return Walked(rows, rows[-1][0])
            base = [source.dataset == dataset, *run.within]
            if seek is not None:
                base.append(after([run.key, source.id], seek, inclusive=from_seek))
            pending = [*filters, *run.only]
            if not pending:  # every user of the range qualifies: read exactly what is needed
                found = _read(connection, dataset, source, run, columns, base, need)
                rows += [((index, r.k, r.id), r) for r in found]
                if len(found) < need:
                    break  # this run is exhausted
                continue
            size = min(size * 2 if size else _first_window(need), WINDOW)
            # A run begun with the budget spent still reads one first window, so the frontier
            # is always a position inside a run (at most one window over the budget per run).
            size = min(size, budget) if budget > 0 else min(size, _first_window(need))
            found, end = _read_window(
                connection, dataset, source, run, columns, base, pending, size, need
            )
            rows += [((index, r.k, r.id), r) for r in found]
            budget -= size
            if end is None:
                break  # the window reached the end of this run
            if len(rows) >= want:
                return Walked(rows[:want], rows[want - 1][0])
            if budget <= 0:
                return Walked(rows, (index, *end))
            seek, from_seek = end, False
    return Walked(rows, END)


def _first_window(need: int) -> int:
    # A little over what a page needs, so a filter most users pass costs about a page; each
    # further window is twice as large, so a selective filter soon reads full windows.
    return max(2 * need, 100)


def _read(
    connection: Connection,
    dataset: int,
    source: Source,
    run: Run,
    columns: Sequence[Column],
    where: list[Any],
    limit: int,
) -> list[Row[Any]]:
    query = select(*columns, run.key.label("k"))
    if source.table is not None:  # the stored list drives, each user read by primary key
        query = query.select_from(source.table).join(
            User, and_(User.dataset_id == dataset, User.id == source.id)
        )
    query = query.where(*where).order_by(run.key, source.id).limit(limit)
    return list(connection.execute(query))


def _read_window(
    connection: Connection,
    dataset: int,
    source: Source,
    run: Run,
    columns: Sequence[Column],
    where: list[Any],
    pending: list[ColumnElement[bool]],
    size: int,
    need: int,
) -> tuple[list[Row[Any]], tuple[Any, Any] | None]:
    """Rows of the next `size` users of the range passing `pending`, and the window's last key
    (None when the window ran past the end of the run)."""
    ordered = select(source.id.label("wid"), run.key.label("wk")).where(*where)
    window = ordered.order_by(run.key, source.id).limit(size).subquery()
    query = (
        select(*columns, window.c.wk.label("k"))
        .select_from(window)
        .join(User, and_(User.dataset_id == dataset, User.id == window.c.wid))
        .where(*pending)
        .order_by(window.c.wk, window.c.wid)
        .limit(need)
    )
    found: list[Row[Any]] = list(connection.execute(query))
    if len(found) >= need:
        last = found[-1]
        return found, (last.k, last.id)
    # The window's last entry: read again from the same range (size - 1 entries skipped).
    last_row = connection.execute(
        ordered.order_by(run.key, source.id).offset(size - 1).limit(1)
    ).first()
    if last_row is None:
        return found, None
    return found, (last_row.wk, last_row.wid)
