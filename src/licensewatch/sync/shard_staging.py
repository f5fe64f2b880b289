"""SQLite staging of a process-parallel sync: the shard processes' scratch files, merged."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from licensewatch.storage.staging import UserStaging
from licensewatch.storage.writers import USER_COLUMNS, USER_LICENSE_COLUMNS

_USERS, _LICENCES = ", ".join(USER_COLUMNS), ", ".join(USER_LICENSE_COLUMNS)
# A repeated user: one an earlier file (or the single-process path) already put in the dataset.
_REPEATED = "EXISTS (SELECT 1 FROM main.users AS u WHERE u.dataset_id = {run} AND u.id = {column})"


class ScratchStaging(UserStaging):
    """`UserStaging` whose publish also moves the rows of the shard processes' scratch files.

    SQLite attaches a file inside a transaction but detaches it only outside one: the files
    are detached when the transaction that attached them ends, committed or not, so the pooled
    connection goes back without them.
    """

    def __init__(self, engine: Engine, scratch: Sequence[Path] = ()) -> None:
        super().__init__(engine)
        self.scratch = list(scratch)
        self.run_id = 0
        self.moved = 0  # users moved from the scratch files by the publish
        self._attached: list[str] = []

    @contextmanager
    def transaction(self, *, relaxed: bool = False) -> Iterator[Connection]:
        with super().transaction(relaxed=relaxed) as connection:
            try:
                yield connection
            finally:
                held = connection
        for alias in self._attached:
            held.exec_driver_sql(f"DETACH DATABASE {alias}")
        self._attached.clear()

    def publish(self, connection: Connection) -> None:
        super().publish(connection)
        for number, path in enumerate(self.scratch):
            alias = f"lw_shard_{number}"
            connection.exec_driver_sql(f"ATTACH DATABASE ? AS {alias}", (str(path),))
            self._attached.append(alias)
            self.moved += self._move(connection, alias)

    def _move(self, connection: Connection, alias: str) -> int:
        """One file's rows; a user already in the dataset (renamed across ranges during the
        read, so read by two shards) is left out with its licences: each user stored once."""
        # S608 below: names are the declared columns and our own aliases; the run id an int.
        move_users = f"INSERT INTO users ({_USERS}) SELECT {_USERS} FROM {alias}.users"  # noqa: S608
        try:
            with connection.begin_nested():  # the common case: no repeat, one statement
                moved = connection.exec_driver_sql(move_users).rowcount
        except IntegrityError:
            for table, column in (("user_licenses", "user_id"), ("users", "id")):
                repeated = _REPEATED.format(
                    run=int(self.run_id), column=f"{alias}.{table}.{column}"
                )
                delete = f"DELETE FROM {alias}.{table} WHERE {repeated}"  # noqa: S608
                connection.exec_driver_sql(delete)
            moved = connection.exec_driver_sql(move_users).rowcount
        move_licences = f"INSERT INTO user_licenses ({_LICENCES}) SELECT {_LICENCES} FROM"
        connection.exec_driver_sql(f"{move_licences} {alias}.user_licenses")
        return int(moved)
