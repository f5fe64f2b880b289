"""Where a shard process puts its rows: a scratch SQLite file, or COPY on its own PostgreSQL link.

SQLite allows one writer per database file, so each process appends to a scratch file of its
own (no index, no journal: it is thrown away on any failure) and the parent moves every file's
rows into `users` and `user_licenses` inside the publishing transaction
(`sync/shard_staging.py`), as the TEMP-table staging does for a single process. PostgreSQL
takes concurrent COPYs: each process copies into the indexed tables itself, under the run's
dataset id, which nothing reads before the publish, and the runner drops on failure.
"""

from __future__ import annotations

import sqlite3
from operator import itemgetter
from typing import Any, Protocol

from psycopg.errors import UniqueViolation
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.exc import IntegrityError

from licensewatch.storage.database import Pooling, make_engine, write_transaction
from licensewatch.storage.writers import (
    USER_COLUMNS,
    USER_LICENSE_COLUMNS,
    USERS,
    write_user_licenses,
    write_users,
)

Rows = list[tuple[Any, ...]]
_ID = USER_COLUMNS.index("id")
_LICENCE_USER = USER_LICENSE_COLUMNS.index("user_id")
_SCRATCH = {"users": USER_COLUMNS, "user_licenses": USER_LICENSE_COLUMNS}


class Sink(Protocol):
    """Takes a shard process's batches; `close` releases what it holds (never publishes)."""

    def append(self, users: Rows, licences: Rows) -> int: ...

    def close(self) -> None: ...


class ScratchSink:
    """Appends to a scratch SQLite file: plain tables, no journal, no fsync (disposable)."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "locking_mode=EXCLUSIVE"):
            self._db.execute(f"PRAGMA {pragma}")
        for table, columns in _SCRATCH.items():
            self._db.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
        # S608: table and column names are the declared ones (`_SCRATCH`), never data.
        self._inserts = {
            table: f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
            for table, columns in _SCRATCH.items()
        }

    def append(self, users: Rows, licences: Rows) -> int:
        # Sorted by id, as the single-process staging does: the publish then meets the primary
        # key's index in order within each batch.
        users.sort(key=itemgetter(_ID))
        licences.sort(key=lambda row: row[_LICENCE_USER] or "")
        self._db.execute("BEGIN")
        self._db.executemany(self._inserts["users"], users)
        self._db.executemany(self._inserts["user_licenses"], licences)
        self._db.execute("COMMIT")
        return len(users)

    def close(self) -> None:
        self._db.close()


_STORED_IDS = select(USERS.c.id).where(
    USERS.c.dataset_id == bindparam("run"), USERS.c.id.in_(bindparam("ids", expanding=True))
)


class CopySink:
    """Binary COPY into the indexed tables on this process's own connection, a batch a commit.

    A user another shard already stored (renamed across ranges during the read) makes the COPY
    fail on the primary key: the batch is copied again without that user, so the run keeps the
    first copy of each user, as the single-process sync does.
    """

    def __init__(self, url: str, run_id: int) -> None:
        self._engine: Engine = make_engine(url, upgrade=False, pooling=Pooling(size=1, overflow=0))
        self._run = run_id

    def append(self, users: Rows, licences: Rows) -> int:
        for _ in range(3):
            try:
                with write_transaction(self._engine) as connection:
                    # Rows nothing reads before the publish, whose synchronous commit flushes all.
                    connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                    write_users(connection, users, encoded=True)
                    write_user_licenses(connection, licences)
                return len(users)
            # COPY runs on the raw psycopg cursor: its error comes unwrapped by SQLAlchemy.
            except (IntegrityError, UniqueViolation):
                users, licences = self._without_stored(users, licences)
        raise RuntimeError("a shard batch kept meeting users stored by another shard")

    def _without_stored(self, users: Rows, licences: Rows) -> tuple[Rows, Rows]:
        with write_transaction(self._engine) as connection:
            ids = [row[_ID] for row in users]
            stored = set(connection.scalars(_STORED_IDS, {"run": self._run, "ids": ids}))
        kept = [row for row in users if row[_ID] not in stored]
        return kept, [row for row in licences if row[_LICENCE_USER] not in stored]

    def close(self) -> None:
        self._engine.dispose()
