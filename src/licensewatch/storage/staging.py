"""Where a full sync's users wait until the dataset is published: cheap appends, one bulk move.

On SQLite, inserting straight into `users` and `user_licenses` costs most of a sync: random GUID
keys dirty index pages all over the new dataset's range, and every commit writes them to the
WAL again. So a SQLite sync appends to TEMP tables without indexes (private to its connection,
gone with it if the process dies) and moves everything into the indexed tables with one
INSERT … SELECT in the publishing transaction, where each index page is written once.
On PostgreSQL, COPY into the indexed tables costs the client little and stays as it is: each
batch takes a fresh pooled connection, so a server restart between pages does not fail a sync.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from types import TracebackType
from typing import Literal, Self

from sqlalchemy import Column, Connection, Engine, MetaData, Table, insert, select
from sqlalchemy.schema import CreateTable, DropTable

from licensewatch.storage.database import writer_connection
from licensewatch.storage.writers import (
    USER_LICENSES,
    USERS,
    Row,
    write_user_licenses,
    write_users,
)

log = logging.getLogger(__name__)


def _temp_copy(table: Table) -> Table:
    """The same columns and types as a TEMP table: no keys, no indexes, no foreign keys."""
    columns = [Column(column.name, column.type) for column in table.columns]
    return Table(f"lw_staged_{table.name}", MetaData(), *columns, prefixes=["TEMPORARY"])


_PAIRS = ((_temp_copy(USERS), USERS), (_temp_copy(USER_LICENSES), USER_LICENSES))


class UserStaging:
    """Stages one dataset's user and licence rows; `publish` moves them into the real tables.

    Use as a context manager around the whole stream and the publishing transaction.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.deferred = engine.dialect.name == "sqlite"
        # How row builders hand timestamps to `append(..., encoded=True)`: SQLite's stored text,
        # or aware datetimes for PostgreSQL's binary COPY (sync/row_builder.py).
        self.encoding: Literal["sqlite", "python"] = "sqlite" if self.deferred else "python"
        self._held: Connection | None = None
        self._created = False  # TEMP tables are made by the first append (none for a small
        self._stack = ExitStack()  # tenant, whose rows `write_direct` puts in the publish)

    def __enter__(self) -> Self:
        if self.deferred:
            self._held = self._stack.enter_context(writer_connection(self.engine))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        held, self._held = self._held, None
        try:
            if held is not None and self._created:
                try:
                    with held.begin():
                        for staged, _ in _PAIRS:
                            _drop(held, staged)
                except Exception:
                    # Closing the connection drops its TEMP tables; never mask the sync's error.
                    log.warning("could not drop the staging tables; closing their connection")
                    held.invalidate()
        finally:
            self._stack.close()

    @contextmanager
    def transaction(self, *, relaxed: bool = False) -> Iterator[Connection]:
        """A write transaction on the staging connection; `relaxed`: rows nothing reads yet.

        Relaxed on PostgreSQL: the commit does not wait for the WAL flush; the later synchronous
        commit that publishes the data flushes everything before it, so a crash loses only
        invisible rows.
        """
        with ExitStack() as stack:
            connection = self._held or stack.enter_context(writer_connection(self.engine))
            with connection.begin():
                if relaxed and connection.dialect.name == "postgresql":
                    connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                yield connection

    def append(
        self,
        connection: Connection,
        users: Sequence[Row],
        licences: Sequence[Row],
        *,
        encoded: bool = False,
    ) -> None:
        """Stage rows; `encoded`: their timestamps are already in `self.encoding`."""
        if self.deferred and not self._created:
            for staged, _ in _PAIRS:
                _drop(connection, staged)  # a pooled connection may keep one of a failed sync
                connection.execute(CreateTable(staged))
            self._created = True
        (staged_users, _), (staged_licences, _) = _PAIRS
        into = staged_users if self.deferred else USERS
        write_users(connection, users, into=into, encoded=encoded)
        write_user_licenses(
            connection, licences, into=staged_licences if self.deferred else USER_LICENSES
        )

    def publish(self, connection: Connection) -> None:
        """Move the staged rows into `users` and `user_licenses` (in the caller's transaction)."""
        if not (self.deferred and self._created):
            return
        for staged, real in _PAIRS:
            names = [column.name for column in real.columns]
            connection.execute(insert(real).from_select(names, select(*staged.columns)))


def write_direct(
    connection: Connection, users: Sequence[Row], licences: Sequence[Row], *, encoded: bool
) -> None:
    """Rows straight into `users` and `user_licenses`, in the caller's (publishing) transaction.

    For a tenant whose users fit in one batch: staging them first would cost a transaction, and
    on SQLite two TEMP tables made and dropped, per sync of every small tenant of a fleet.
    """
    write_users(connection, users, encoded=encoded)
    write_user_licenses(connection, licences)


def _drop(connection: Connection, staged: Table) -> None:
    connection.execute(DropTable(staged, if_exists=True))
