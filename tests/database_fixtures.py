"""Fixtures for SQLite files and throw-away PostgreSQL databases (owned by the storage area)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine

POSTGRES_HOST = os.environ.get("LICENSEWATCH_TEST_PGHOST", "127.0.0.1")
POSTGRES_PORT = int(os.environ.get("LICENSEWATCH_TEST_PGPORT", "5432"))
POSTGRES_USER = os.environ.get("LICENSEWATCH_TEST_PGUSER", "postgres")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=POSTGRES_HOST,
        port=POSTGRES_PORT,
        user=POSTGRES_USER,
        dbname="postgres",
        autocommit=True,
        connect_timeout=3,
    )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLAlchemy URL of a fresh SQLite file (a real file: WAL and many connections work)."""
    return f"sqlite:///{tmp_path / 'licensewatch.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a freshly created PostgreSQL database, dropped afterwards."""
    try:
        admin = _admin_connection()
    except psycopg.OperationalError as exc:
        where = f"{POSTGRES_HOST}:{POSTGRES_PORT} as {POSTGRES_USER}"
        reason = f"PostgreSQL at {where} is unreachable: {exc}"
        if _in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"lw_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://{POSTGRES_USER}@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
    finally:
        with _admin_connection() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs a test once on a SQLite file and once on a throw-away PostgreSQL database."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


def add_tenant(engine: Engine, name: str = "contoso", directory_id: str | None = None) -> int:
    """Insert a minimal tenant row and return its id (tests of storage and sync)."""
    from licensewatch.storage.database import session_scope
    from licensewatch.storage.models import Tenant

    with session_scope(engine) as session:
        tenant = Tenant(
            name=name,
            directory_id=directory_id or f"{name}.onmicrosoft.com",
            client_id=str(uuid.uuid4()),
        )
        session.add(tenant)
        session.flush()
        return tenant.id


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on each database of `database_url`, disposed afterwards."""
    from licensewatch.storage.database import make_engine

    created = make_engine(database_url)
    try:
        yield created
    finally:
        created.dispose()


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    """A migrated engine on a throw-away PostgreSQL database, disposed even if the test fails."""
    from licensewatch.storage.database import make_engine

    created = make_engine(postgres_url)
    try:
        yield created
    finally:
        created.dispose()
