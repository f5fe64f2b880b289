"""Alembic driven from Python (no alembic.ini): upgrade a database to the current schema."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from licensewatch.storage.schema_version import is_current

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the bundled migrations, optionally bound to a connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest migration shipped with this code."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision a database is at (None when it was never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate a database up to a revision; a no-op when already there.

    Takes an engine only: `storage.database.make_engine` calls this, so this module must not
    call back into it (no import cycle, even behind a function-local import).
    """
    if revision == "head" and is_current(engine):
        return  # the common case, decided without importing Alembic
    from alembic import command

    if revision == "head" and current_revision(engine) == head_revision():
        return
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), revision)
        connection.commit()
