"""The configured database for CLI commands, opened without Graph, web or onboarding code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from licensewatch.cli.output import setup_logging
from licensewatch.quick_settings import load_basic_settings


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
