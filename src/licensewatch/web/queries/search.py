"""User search: a case-insensitive prefix of the UPN or display name, read from two indexes.

Like the Entra admin centre's user search, a term matches the start of a user principal name
or display name, not any substring: a substring match has to read every user of the tenant
(0.6–1.2 s at 300k users for a rare term), while a prefix is a range of the
(dataset_id, lower(...)) indexes of migration 0005.

Results come in two runs, each in its own index's order so a page stops reading once it is
full: users whose UPN matches (by lower-cased UPN), then users matched by display name only
(by lower-cased display name); web/queries/user_list.py pages through them with a cursor.
Sorting the union by UPN instead would read every match first (≈ 5,000 rows for a common
first name at 300k users).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func
from sqlalchemy.orm import Session

from licensewatch.storage.database import is_sqlite
from licensewatch.storage.models.inventory import User

_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
UPN_KEY = func.lower(User.user_principal_name)
NAME_KEY = func.lower(User.display_name)


def fold(session: Session, text: str) -> str:
    """The term as the database's lower() folds text.

    SQLite's built-in lower() folds ASCII letters only (PostgreSQL's folds all of Unicode); the
    term must be folded the same way or a non-ASCII capital ("Émile") could never match.
    """
    text = text.strip()
    return text.translate(_ASCII_UPPER) if is_sqlite(session) else text.lower()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _after_prefix(text: str) -> str | None:
    """The first string greater than every string that starts with `text` (None: no such bound)."""
    last = ord(text[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # surrogates cannot be encoded: skip to the next real character
        last = 0xE000
    return text[:-1] + chr(last) if last <= 0x10FFFF else None


def starts_with(key: ColumnElement[Any], folded: str) -> ColumnElement[bool]:
    """`key` (a lower(...) expression) starts with the folded term.

    The range alone is exact under a binary collation; the LIKE keeps it exact under
    PostgreSQL's linguistic collations, where the range only narrows the index scan.
    """
    bounds = [key >= folded, key.like(_escape_like(folded) + "%", escape="\\")]
    high = _after_prefix(folded)
    if high is not None:
        bounds.append(key < high)
    return and_(*bounds)
