"""Engine construction (SQLite WAL or PostgreSQL via psycopg 3) and transaction helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from licensewatch.quick_settings import load_basic_settings
from licensewatch.security.files import secure_sqlite_files
from licensewatch.storage.sqlite_reader import SQLITE_BUSY_TIMEOUT_MS

if TYPE_CHECKING:
    # The ORM only where a session is asked for: the CLI's quick reads run plain SQL (issue 12).
    from sqlalchemy.orm import Session

# Page cache per connection (allocated on demand). A full sync's publish inserts a whole dataset
# into the indexes in one transaction: 40 MiB keeps a 300k-user publish in memory and a sync
# process under 200 MB (64 MiB took it to ~217 MB for little speed).
SQLITE_CACHE_KIB = 40_960
SQLITE_WAL_LIMIT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Pooling:
    """How many connections an engine keeps and how much page cache each SQLite one may use.

    The default suits one sync (a large cache for its publish); a web worker serving 20
    clients holds up to `size + overflow` connections, so it takes a small cache per
    connection (the operating system caches the file anyway) and fewer of them.
    """

    cache_kib: int = SQLITE_CACHE_KIB
    size: int = 5
    overflow: int = 10


def normalize_url(url: str) -> str:
    """Map plain `postgresql://` (and `postgres://`) URLs onto the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(
    url: str, *, upgrade: bool = True, echo: bool = False, pooling: Pooling | None = None
) -> Engine:
    """An engine for a database URL; by default migrates its schema to the newest revision."""
    url = normalize_url(url)
    parsed = make_url(url)
    pooling = pooling or Pooling()
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(url, echo=echo, pooling=pooling)
    elif parsed.get_backend_name() == "postgresql":
        engine = create_engine(
            url,
            echo=echo,
            pool_pre_ping=True,
            pool_size=pooling.size,
            max_overflow=pooling.overflow,
        )
    else:
        raise ValueError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
        )
    if upgrade:
        from licensewatch.storage.migrate import upgrade as run_upgrade

        run_upgrade(engine)
    return engine


def _sqlite_engine(url: str, *, echo: bool, pooling: Pooling) -> Engine:
    database = make_url(url).database
    pool: dict[str, Any] = {}
    if database and database != ":memory:" and not database.startswith("file:"):
        # Every tenant's users and mail addresses live here: owner-only, checked at each start.
        secure_sqlite_files(Path(database).expanduser(), _home())
        pool = {"pool_size": pooling.size, "max_overflow": pooling.overflow}
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False}, **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own implicit BEGIN skips SELECTs, which breaks snapshot reads: we emit BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA cache_size=-{pooling.cache_kib}")
            # A full sync writes its whole dataset through the WAL; once checkpointed, give the
            # disk space back instead of keeping the largest WAL ever seen.
            cursor.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_LIMIT_BYTES}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers lock up front: a deferred read→write upgrade fails at once in WAL mode.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _home() -> Path | None:
    try:
        return load_basic_settings().home
    except ValueError:  # invalid settings are reported by whoever uses them, not here
        return None


def is_sqlite(bind: Engine | Connection | Session) -> bool:
    """Whether a bind talks to SQLite."""
    engine = bind if isinstance(bind, Engine | Connection) else bind.get_bind()
    return engine.dialect.name == "sqlite"


@contextmanager
def writer_connection(engine: Engine) -> Iterator[Connection]:
    """A connection whose transactions write (BEGIN IMMEDIATE on SQLite), held by one caller."""
    with engine.connect() as connection:
        connection.execution_options(sqlite_begin="IMMEDIATE")
        yield connection


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction: committed on success, rolled back on any exception."""
    with writer_connection(engine) as connection, connection.begin():
        yield connection


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection whose statements all see one snapshot (REPEATABLE READ on PostgreSQL)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection


@contextmanager
def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """An ORM session in one transaction: committed on success, rolled back on any exception."""
    from sqlalchemy.orm import Session

    with engine.connect() as connection:
        if write:
            connection.execution_options(sqlite_begin="IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with Session(bind=connection, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
