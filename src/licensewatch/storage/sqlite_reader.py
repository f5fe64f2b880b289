"""A read-only sqlite3 snapshot of a current SQLite database: the quick reads without SQLAlchemy.

`licensewatch balance`, `status` and `tenant list` spent most of their start-up importing
SQLAlchemy (issue 12). When the configured database is a plain SQLite file, already in WAL mode
and at the shipped schema, they read it through the standard library instead. Anything else (a
new file, a database to migrate, an unusual URL, an error on opening) returns None: the caller
then goes through `make_engine`, which creates, migrates or reports exactly as before.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from licensewatch.security.files import secure_sqlite_files
from licensewatch.storage.schema_version import shipped_head, sqlite_revision

SQLITE_BUSY_TIMEOUT_MS = 30_000
_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")
# Characters after which SQLAlchemy's URL parsing (query, escapes) or a home (~) would differ.
_SPECIAL = frozenset("?#%~")


def sqlite_file(url: str) -> Path | None:
    """The file of a plain `sqlite:///PATH` URL; None for anything SQLAlchemy must interpret."""
    for prefix in _PREFIXES:
        if url.startswith(prefix):
            path = url[len(prefix) :]
            special = path in ("", ":memory:") or path.startswith("file:")
            return None if special or _SPECIAL & set(path) else Path(path)
    return None


def open_snapshot(url: str, home: Path | None) -> sqlite3.Connection | None:
    """A read-only connection inside one read transaction, or None: use SQLAlchemy."""
    path = sqlite_file(url)
    if path is None or not path.is_file():
        return None  # `make_engine` creates and migrates a new database
    secure_sqlite_files(path, home)  # as `make_engine` does: owner-only, checked at each start
    try:
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro",
            uri=True,
            timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # we BEGIN: every statement then reads the same snapshot
        )
    except sqlite3.Error:
        return None
    try:
        connection.execute("BEGIN")
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
        head = shipped_head()
        if mode == "wal" and head is not None and sqlite_revision(connection) == head:
            return connection
    except sqlite3.Error:
        pass
    connection.close()
    return None
