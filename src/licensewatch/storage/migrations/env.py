"""Alembic environment: runs migrations on the connection handed over by `storage.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from licensewatch.storage.models import Base

# Serialises concurrent upgrades of one PostgreSQL database (arbitrary constant key).
_PG_LOCK_KEY = 7_402_913


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("licensewatch migrations run through licensewatch.storage.migrate")
    _run(connection)


_main()
