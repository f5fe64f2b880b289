"""Throw-away databases for a run: a SQLite file, or a PostgreSQL database dropped afterwards."""

from __future__ import annotations

import argparse
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import Engine

from licensewatch.storage.database import make_engine

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


def each_size_and_engine(
    prog: str,
    doc: str | None,
    default_sizes: str,
    run: Callable[[str, int, Path], object],
    argv: list[str] | None = None,
) -> int:
    """The `--sizes` and `--databases` command line of a per-size benchmark, run per pair."""
    parser = argparse.ArgumentParser(prog=prog, description=doc)
    parser.add_argument("--sizes", default=default_sizes, help="users, comma-separated")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite,postgresql")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    with tempfile.TemporaryDirectory(prefix="lw-bench-") as folder:
        for users in sizes:
            for kind in kinds:
                if kind == "postgresql" and (problem := postgres_problem()):
                    print(f"\npostgresql skipped: {problem}")
                    continue
                run(kind, users, Path(folder))
    return 0


@contextmanager
def bench_engine(kind: str, folder: Path) -> Iterator[Engine]:
    """An engine on a new database of this kind ("sqlite" in `folder`, or "postgresql"), dropped
    with its data afterwards."""
    database = postgres_database() if kind == "postgresql" else sqlite_database(folder)
    with database as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()
