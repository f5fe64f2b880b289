"""The Alembic-free "is this database current?" check agrees with Alembic."""

from __future__ import annotations

from sqlalchemy import text

from licensewatch.storage.database import make_engine
from licensewatch.storage.migrate import current_revision, head_revision, upgrade
from licensewatch.storage.schema_version import is_current, shipped_head, stored_revision


def test_the_shipped_head_is_alembics() -> None:
    assert shipped_head() is not None
    assert shipped_head() == head_revision()


def test_a_database_is_current_only_at_the_head(database_url: str) -> None:
    engine = make_engine(database_url, upgrade=False)
    try:
        assert stored_revision(engine) is None  # never migrated: no table, no error
        assert not is_current(engine)
        upgrade(engine, "0001")
        assert stored_revision(engine) == "0001" == current_revision(engine)
        assert not is_current(engine)
        upgrade(engine)
        assert stored_revision(engine) == head_revision() == current_revision(engine)
        assert is_current(engine)
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES ('x')"))
        assert stored_revision(engine) is None  # two rows: let Alembic decide
        assert not is_current(engine)
    finally:
        engine.dispose()
