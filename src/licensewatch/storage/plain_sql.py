"""Plain SQL run through SQLAlchemy or the standard library's sqlite3, its values read alike.

The quick reads (`balance`, `status`, `tenant list`) write each query once, as text with named
parameters (`:name`, understood by both), so that on SQLite a CLI command can skip importing
SQLAlchemy (issue 12) while the web app and PostgreSQL run the very same statement. Untyped text
results come back as each driver stores them: `utc` and `flag` read them as the models' column
types do (`coltypes.UTCDateTime` on SQLAlchemy's SQLite dialect, `Boolean`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

Bind: TypeAlias = "Connection | Session | sqlite3.Connection"


def rows(bind: Bind, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """The statement's rows as plain tuples, on whichever connection the caller holds."""
    if isinstance(bind, sqlite3.Connection):
        return bind.execute(sql, dict(params or {})).fetchall()
    from sqlalchemy import text

    return [tuple(row) for row in bind.execute(text(sql), dict(params or {}))]


def utc(value: str | datetime | None) -> datetime | None:
    """A timestamp column: SQLite's naive UTC text (parsed as the dialect does) or PostgreSQL's."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def flag(value: object) -> bool | None:
    """A boolean column: SQLite stores 0 and 1."""
    return None if value is None else bool(value)
