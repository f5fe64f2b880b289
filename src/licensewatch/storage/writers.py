"""Bulk writers for the sync hot path: executemany on SQLite, COPY on PostgreSQL, no ORM."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from psycopg import sql as psql
from sqlalchemy import Connection, Table, delete, insert

from licensewatch.storage.models import User, UserLicense
from licensewatch.storage.models.base import UTCDateTime

Row = Sequence[Any]

USERS: Table = User.__table__  # type: ignore[assignment]
USER_LICENSES: Table = UserLicense.__table__  # type: ignore[assignment]

# Column order of the tuples the collectors produce.
USER_COLUMNS: tuple[str, ...] = tuple(column.name for column in USERS.columns)
USER_LICENSE_COLUMNS: tuple[str, ...] = tuple(column.name for column in USER_LICENSES.columns)


def _sqlite_datetime(value: Any) -> Any:
    """What UTCDateTime would bind on SQLite: naive UTC text with microseconds."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
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
    connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[Row]
) -> int:
    """Insert row tuples (in `columns` order) inside the caller's transaction; returns the count."""
    if connection.dialect.name == "postgresql":
        return _copy(connection, table, columns, rows)
    converters = _sqlite_converters(table, columns)
    if converters:
        converted: list[Row] = []
        for row in rows:
            values = list(row)
            for index, convert in converters:
                values[index] = convert(values[index])
            converted.append(values)
        batch = converted
    else:
        batch = [tuple(row) for row in rows]
    if not batch:
        return 0
    statement = str(insert(table).compile(dialect=connection.dialect, column_keys=list(columns)))
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        # The raw cursor skips SQLAlchemy's per-value bind processing (done above, once).
        cursor.executemany(statement, batch)
    finally:
        cursor.close()
    return len(batch)


def _copy(connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[Row]) -> int:
    raw = connection.connection.driver_connection
    statement = psql.SQL("COPY {} ({}) FROM STDIN").format(
        psql.Identifier(table.name), psql.SQL(", ").join(map(psql.Identifier, columns))
    )
    count = 0
    # The psycopg connection is SQLAlchemy's: COPY runs inside the caller's transaction.
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def write_users(connection: Connection, rows: Iterable[Row]) -> int:
    """Insert user tuples ordered as `USER_COLUMNS`."""
    return bulk_insert(connection, USERS, USER_COLUMNS, rows)


def write_user_licenses(connection: Connection, rows: Iterable[Row]) -> int:
    """Insert licence tuples ordered as `USER_LICENSE_COLUMNS`."""
    return bulk_insert(connection, USER_LICENSES, USER_LICENSE_COLUMNS, rows)


def delete_datasets(connection: Connection, dataset_ids: Iterable[int]) -> int:
    """Delete the user and licence rows of datasets; returns the number of user rows removed."""
    ids = list(dataset_ids)
    if not ids:
        return 0
    connection.execute(delete(USER_LICENSES).where(USER_LICENSES.c.dataset_id.in_(ids)))
    result = connection.execute(delete(USERS).where(USERS.c.dataset_id.in_(ids)))
    return result.rowcount
