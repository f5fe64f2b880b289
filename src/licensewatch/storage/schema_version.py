"""Whether a database is at the shipped schema, answered without importing Alembic.

Every command opens the database through `make_engine`, which migrates it; importing Alembic
only to learn that nothing is to do cost a short CLI command about a fifth of its start-up. The
quick reads' sqlite3 path (`storage/sqlite_reader.py`) asks the same question without SQLAlchemy.
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

VERSION_SQL = "SELECT version_num FROM alembic_version"
VERSIONS_DIR = Path(__file__).parent / "migrations" / "versions"
_ASSIGNMENT = re.compile(r'^(revision|down_revision)\s*=\s*(None|"[^"]*"|\'[^\']*\')\s*$', re.M)


@cache
def shipped_head() -> str | None:
    """The newest migration shipped with this code; None when not a single plain chain head.

    None (branches, merges, a file this parser does not understand) sends the caller to Alembic.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in VERSIONS_DIR.glob("*.py"):
        found = dict(_ASSIGNMENT.findall(script.read_text(encoding="utf-8")))
        if "revision" not in found or "down_revision" not in found:
            return None
        revisions.add(found["revision"].strip("\"'"))
        if found["down_revision"] != "None":
            parents.add(found["down_revision"].strip("\"'"))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revision(engine: Engine) -> str | None:
    """The one revision recorded in the database; None when absent, several or unreadable."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect() as connection:
            rows = connection.execute(text(VERSION_SQL)).all()
    except DBAPIError:  # never migrated: no alembic_version table
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def sqlite_revision(connection: sqlite3.Connection) -> str | None:
    """`stored_revision` read through the standard library's sqlite3 (the CLI's quick reads)."""
    try:
        rows = connection.execute(VERSION_SQL).fetchall()
    except sqlite3.Error:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def is_current(engine: Engine) -> bool:
    """True when the database is certainly at the shipped head (False: ask Alembic)."""
    head = shipped_head()
    return head is not None and stored_revision(engine) == head
