"""Throw-away databases for a run: a SQLite file, or a PostgreSQL database dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

PG_HOST = os.environ.get("LICENSEWATCH_BENCH_PGHOST", "127.0.0.1")
PG_PORT = int(os.environ.get("LICENSEWATCH_BENCH_PGPORT", "5432"))
PG_USER = os.environ.get("LICENSEWATCH_BENCH_PGUSER", "postgres")


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True,
        connect_timeout=3,
    )  # fmt: skip


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used (None when it can)."""
    try:
        with _admin():
            return None
    except psycopg.OperationalError as exc:
        return f"PostgreSQL at {PG_HOST}:{PG_PORT} unreachable: {str(exc).strip()[:120]}"


@contextmanager
def postgres_database() -> Iterator[str]:
    """A SQLAlchemy URL of a fresh database, dropped (WITH FORCE) afterwards."""
    name = f"lw_bench_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with _admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    """A SQLAlchemy URL of a new SQLite file in `folder` (removed with its WAL afterwards)."""
    path = folder / f"bench-{uuid.uuid4().hex[:8]}.db"
    try:
        yield f"sqlite:///{path}"
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
