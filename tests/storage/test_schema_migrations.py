"""The Alembic migrations create exactly the schema the SQLAlchemy models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from licensewatch.storage.database import make_engine
from licensewatch.storage.migrate import current_revision, head_revision, upgrade
from licensewatch.storage.models import Base

TABLES = {
    "tenants",
    "credentials",
    "skus",
    "sku_service_plans",
    "subscriptions",
    "groups",
    "group_licenses",
    "users",
    "user_licenses",
    "sync_runs",
    "sku_snapshots",
}


# SQLite cannot reflect expression indexes (lower(...) of migration 0005), so SQLAlchemy and
# Alembic skip comparing them there with a warning; PostgreSQL compares them in full.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrated_schema_equals_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(database_url: str) -> None:
    engine = make_engine(database_url, upgrade=False)
    try:
        upgrade(engine)
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
