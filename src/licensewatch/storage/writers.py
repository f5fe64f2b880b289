"""Bulk writers for the sync hot path: executemany on SQLite, COPY on PostgreSQL, no ORM."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from psycopg import sql as psql
from sqlalchemy import Connection, Table, delete, insert
from sqlalchemy.dialects import postgresql

from licensewatch.storage.models import User, UserLicense
from licensewatch.storage.models.base import UTCDateTime

Row = Sequence[Any]

USERS: Table = User.__table__  # type: ignore[assignment]
USER_LICENSES: Table = UserLicense.__table__  # type: ignore[assignment]

# Column order of the tuples the collectors produce.
USER_COLUMNS: tuple[str, ...] = tuple(column.name for column in USERS.columns)
USER_LICENSE_COLUMNS: tuple[str, ...] = tuple(column.name for column in USER_LICENSES.columns)
_USER_ID = USER_COLUMNS.index("id")
_LICENCE_USER = USER_LICENSE_COLUMNS.index("user_id")


def _sqlite_datetime(value: Any) -> Any:
    """What UTCDateTime would bind on SQLite: naive UTC text with microseconds."""
    if isinstance(value, datetime):
        if value.tzinfo is not UTC:  # the collectors hand over UTC already: skip the conversion
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def _sqlite_converters(
    table: Table, columns: Sequence[str]
) -> list[tuple[int, Callable[[Any], Any]]]:
    return [
        (index, _sqlite_datetime)
        for index, name in enumerate(columns)
        if isinstance(table.c[name].type, UTCDateTime)
    ]


def bulk_insert(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Row],
    *,
    order_by: int | None = None,
    encoded: bool = False,
) -> int:
    """Insert row tuples (in `columns` order) inside the caller's transaction; returns the count.

    `order_by` (a column position) sorts the batch first: rows then reach the index on that
    column in key order, so each index page is visited once per batch instead of at random.
    `encoded` (SQLite): timestamps are already its stored text (`sync/row_builder.py`), so no
    value is converted here. PostgreSQL takes aware datetimes (binary COPY).
    """
    if order_by is not None:
        rows = _sorted(rows, order_by)
    if connection.dialect.name == "postgresql":
        return _copy(connection, table, columns, rows)
    converters = [] if encoded else [index for index, _ in _sqlite_converters(table, columns)]
    batch: list[Row]
    if converters:
        batch = []
        for row in rows:
            values = list(row)
            for index in converters:
                if values[index] is not None:
                    values[index] = _sqlite_datetime(values[index])
            batch.append(values)
    else:
        batch = rows if isinstance(rows, list) else list(rows)
    if not batch:
        return 0
    statement = _insert_sql(connection, table, columns)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        # The raw cursor skips SQLAlchemy's per-value bind processing (done above, once).
        cursor.executemany(statement, batch)
    finally:
        cursor.close()
    return len(batch)


def _sorted(rows: Iterable[Row], position: int) -> list[Row]:
    """Rows by one column, a missing key ("" or None) first; stable, so ties keep their order.

    The C `itemgetter` key first (the sync's keys are all text: ≈ 30 % of the sort's CPU less
    than a Python key function); a None among them cannot be compared, so that batch is sorted
    again with the None read as "".
    """
    batch = rows if isinstance(rows, list) else list(rows)
    try:
        return sorted(batch, key=itemgetter(position))
    except TypeError:
        return sorted(batch, key=lambda row: row[position] or "")


_STATEMENTS: dict[tuple[str, str, tuple[str, ...]], str] = {}


def _insert_sql(connection: Connection, table: Table, columns: Sequence[str]) -> str:
    """The compiled INSERT, cached: compiling costs more than inserting a small page."""
    key = (connection.dialect.name, table.name, tuple(columns))
    statement = _STATEMENTS.get(key)
    if statement is None:
        compiled = insert(table).compile(dialect=connection.dialect, column_keys=list(columns))
        statement = _STATEMENTS[key] = str(compiled)
    return statement


# The binary COPY format of each column, by its type on PostgreSQL (varchar takes text's).
_BINARY_TYPES = {
    "INTEGER": "int4",
    "BIGINT": "int8",
    "SMALLINT": "int2",
    "BOOLEAN": "bool",
    "DATE": "date",
    "TEXT": "text",
    "VARCHAR": "text",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "BYTEA": "bytea",
}


def _binary_types(table: Table, columns: Sequence[str]) -> list[str]:
    names = []
    dialect = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]
    for name in columns:
        compiled = table.c[name].type.compile(dialect=dialect)
        names.append(_BINARY_TYPES[compiled.partition("(")[0]])
    return names


def _copy(connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[Row]) -> int:
    """Binary COPY: psycopg's C dumpers write each value as the server stores it, so neither
    side formats or parses text (half the client CPU of text COPY, measured; less server CPU)."""
    raw = connection.connection.driver_connection
    statement = psql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        psql.Identifier(table.name), psql.SQL(", ").join(map(psql.Identifier, columns))
    )
    key = (table.name, tuple(columns))
    types = _TYPES.get(key) or _TYPES.setdefault(key, _binary_types(table, columns))
    count = 0
    # The psycopg connection is SQLAlchemy's: COPY runs inside the caller's transaction.
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        copy.set_types(types)
        write = copy.write_row
        for row in rows:
            write(row)
            count += 1
    return count


_TYPES: dict[tuple[str, tuple[str, ...]], list[str]] = {}


def write_users(
    connection: Connection, rows: Iterable[Row], *, into: Table = USERS, encoded: bool = False
) -> int:
    """Insert user tuples ordered as `USER_COLUMNS` (sorted by id: the primary key's order)."""
    return bulk_insert(connection, into, USER_COLUMNS, rows, order_by=_USER_ID, encoded=encoded)


def write_user_licenses(
    connection: Connection, rows: Iterable[Row], *, into: Table = USER_LICENSES
) -> int:
    """Insert licence tuples ordered as `USER_LICENSE_COLUMNS` (sorted by user id)."""
    return bulk_insert(connection, into, USER_LICENSE_COLUMNS, rows, order_by=_LICENCE_USER)


def delete_datasets(connection: Connection, dataset_ids: Iterable[int]) -> int:
    """Delete the user and licence rows of datasets; returns the number of user rows removed."""
    ids = list(dataset_ids)
    if not ids:
        return 0
    connection.execute(delete(USER_LICENSES).where(USER_LICENSES.c.dataset_id.in_(ids)))
    result = connection.execute(delete(USERS).where(USERS.c.dataset_id.in_(ids)))
    return result.rowcount
