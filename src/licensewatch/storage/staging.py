"""Where a full sync's users wait until the dataset is published: cheap appends, one bulk move.

On SQLite, inserting straight into `users` and `user_licenses` costs most of a sync: random GUID
keys dirty index pages all over the new dataset's range, and every commit writes them to the
WAL again. So a SQLite sync appends to TEMP tables without indexes (private to its connection,
gone with it if the process dies) and moves everything into the indexed tables with one
INSERT … SELECT in the publishing transaction, where each index page is written once. Staged
rows are bare: the run's constants (dataset_id, tenant_id) are not bound per row but added by
that INSERT … SELECT (and inlined in the statement of a small tenant's direct write).
On PostgreSQL, COPY into the indexed tables costs the client little and stays as it is: each
batch takes a fresh pooled connection, so a server restart between pages does not fail a sync.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from types import TracebackType
from typing import Literal, Self

from sqlalchemy import Column, Connection, Engine, Integer, MetaData, Table, insert, literal, select
from sqlalchemy.schema import CreateTable, DropTable

from licensewatch.storage.database import writer_connection
from licensewatch.storage.writers import (
    USER_LICENSES,
    USERS,
    Row,
    bulk_insert,
    write_user_licenses,
    write_users,
)

log = logging.getLogger(__name__)


# The run's constants: in every real row, never in a staged (bare) one.
CONSTANTS = ("dataset_id", "tenant_id")


def _temp_copy(table: Table) -> Table:
    """The columns and types but the constants as a TEMP table: no keys, indexes or foreign keys."""
    columns = [Column(c.name, c.type) for c in table.columns if c.name not in CONSTANTS]
    return Table(f"lw_staged_{table.name}", MetaData(), *columns, prefixes=["TEMPORARY"])


_PAIRS = ((_temp_copy(USERS), USERS), (_temp_copy(USER_LICENSES), USER_LICENSES))
# Column order of bare rows (`row_builder.page_builder(..., bare=True)`): the table's, less the
# constants; both start with the user id, which batches are sorted by.
BARE_USER_COLUMNS = tuple(column.name for column in _PAIRS[0][0].columns)
BARE_LICENCE_COLUMNS = tuple(column.name for column in _PAIRS[1][0].columns)


class UserStaging:
    """Stages one dataset's user and licence rows; `publish` moves them into the real tables.

    Use as a context manager around the whole stream and the publishing transaction.
    """

    def __init__(self, engine: Engine, *, dataset_id: int, tenant_id: int) -> None:
        self.engine = engine
        self.deferred = engine.dialect.name == "sqlite"
        # SQLite takes bare rows (no constants); PostgreSQL's COPY whole ones.
        self.bare = self.deferred
        self._constants = {"dataset_id": dataset_id, "tenant_id": tenant_id}
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
        """Stage rows (bare when `self.bare`); `encoded`: timestamps are in `self.encoding`."""
        if not self.deferred:
            write_users(connection, users, encoded=encoded)
            write_user_licenses(connection, licences)
            return
        if not self._created:
            for staged, _ in _PAIRS:
                _drop(connection, staged)  # a pooled connection may keep one of a failed sync
                connection.execute(CreateTable(staged))
            self._created = True
        (staged_users, _), (staged_licences, _) = _PAIRS
        bulk_insert(connection, staged_users, BARE_USER_COLUMNS, users, order_by=0, encoded=encoded)
        bulk_insert(connection, staged_licences, BARE_LICENCE_COLUMNS, licences, order_by=0)

    def publish(self, connection: Connection) -> None:
        """Move the staged rows into `users` and `user_licenses` (in the caller's transaction)."""
        if not (self.deferred and self._created):
            return
        for staged, real in _PAIRS:
            names = [column.name for column in real.columns]
            values = [
                literal(self._constants[name], Integer) if name in CONSTANTS else staged.c[name]
                for name in names
            ]
            connection.execute(insert(real).from_select(names, select(*values)))

    def write_direct(
        self, connection: Connection, users: Sequence[Row], licences: Sequence[Row]
    ) -> None:
        """Rows straight into `users` and `user_licenses`, in the caller's (publishing) transaction.

        For a tenant whose users fit in one batch: staging them first would cost a transaction,
        and on SQLite two TEMP tables made and dropped, per sync of every small tenant of a fleet.
        Timestamps are in `self.encoding`; rows are bare when `self.bare`.
        """
        if not self.bare:
            write_users(connection, users, encoded=True)
            write_user_licenses(connection, licences)
            return
        given = self._constants
        bulk_insert(
            connection, USERS, BARE_USER_COLUMNS, users, order_by=0, encoded=True, constants=given
        )
        constants = {"dataset_id": given["dataset_id"]}
        bulk_insert(
            connection,
            USER_LICENSES,
            BARE_LICENCE_COLUMNS,
            licences,
            order_by=0,
            constants=constants,
        )


def _drop(connection: Connection, staged: Table) -> None:
    connection.execute(DropTable(staged, if_exists=True))
