"""The configured database for CLI commands, opened without Graph, web or onboarding code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import TYPE_CHECKING

from licensewatch.cli.output import setup_logging
from licensewatch.quick_settings import load_basic_settings
from licensewatch.storage.plain_sql import Bind
from licensewatch.storage.sqlite_reader import open_snapshot

if TYPE_CHECKING:
    from sqlalchemy import Engine


def open_engine() -> Engine:
    """The configured database, migrated to the current schema; logging set up on the way."""
    from licensewatch.storage.database import make_engine

    settings = load_basic_settings()
    setup_logging(settings)
    return make_engine(settings.database_url)


@contextmanager
def database() -> Iterator[Engine]:
    """The engine for one command; pooled connections are closed afterwards."""
    engine = open_engine()
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def read_snapshot() -> Iterator[Bind]:
    """One read transaction for a quick read (`balance`, `status`, `tenant list`).

    A current SQLite database is read through the standard library's sqlite3, without importing
    SQLAlchemy (issue 12); any other database, or one to create or migrate, through
    `make_engine` as every command does. Both run the same SQL (`storage/plain_sql.py`).
    """
    settings = load_basic_settings()
    setup_logging(settings)
    snapshot = open_snapshot(settings.database_url, settings.home)
    if snapshot is not None:
        with closing(snapshot):
            yield snapshot
        return
    from licensewatch.storage.database import make_engine, read_transaction

    engine = make_engine(settings.database_url)
    try:
        with read_transaction(engine) as connection:
            yield connection
    finally:
        engine.dispose()
