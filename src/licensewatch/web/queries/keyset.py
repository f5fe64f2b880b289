"""Keyset cursors: where a list stopped, as an opaque token the next request continues after.

A page read with an offset walks every skipped row again (offset 100,000 of a 300k-user list
reads 100,000 index entries); a cursor names the last row's sort key, so the next page starts
with an index seek and costs the same wherever it is. The token is URL-safe base64 of a JSON
list: the list's name (a cursor of the users list is refused by the changes list) and the key.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import QueryableAttribute

# A column or expression to order by: a model attribute (User.id) or an expression (lower(...)).
Column = ColumnElement[Any] | QueryableAttribute[Any]
MAX_CURSOR = 2000  # characters: a key is a few short strings, never this long


class BadCursor(ValueError):
    """A cursor this list did not hand out (edited, cut short, or from another list)."""


def encode(kind: str, *key: str | int | None) -> str:
    """The token of a position in the list `kind`."""
    raw = json.dumps([kind, *key], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(kind: str, token: str, types: Sequence[type | tuple[type, ...]]) -> list[Any]:
    """The key of a token of the list `kind`, checked against `types`; BadCursor otherwise."""
    problem = f"the cursor is not one this list gave out: start again from the first page ({kind})"
    if len(token) > MAX_CURSOR:
        raise BadCursor(problem)
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode())
    except (UnicodeError, ValueError, binascii.Error):
        raise BadCursor(problem) from None
    if not isinstance(value, list) or len(value) != len(types) + 1 or value[0] != kind:
        raise BadCursor(problem)
    key = value[1:]
    # bool is an int to isinstance: refused explicitly so `true` is never a row id.
    if any(isinstance(v, bool) or not isinstance(v, t) for v, t in zip(key, types, strict=True)):
        raise BadCursor(problem)
    return key


def after(
    columns: Sequence[Column],
    values: Sequence[Any],
    *,
    descending: bool = False,
    inclusive: bool = False,
) -> ColumnElement[bool]:
    """Rows after `values` in the order of `columns` (all ascending, or all descending);
    with `inclusive`, the row at `values` too.

    Spelled as nested OR/AND with the first column's bound repeated on its own (`a >= x AND
    (a > x OR (a = x AND ...))`): that bound is what both planners turn into an index range.
    """
    first, *rest = columns
    value, *later = values
    bound: ColumnElement[bool] = first <= value if descending else first >= value
    if not rest:
        return bound if inclusive else _beyond(first, value, descending)
    tail = _past(rest, later, descending, inclusive)
    return and_(bound, or_(_beyond(first, value, descending), and_(first == value, tail)))


def _beyond(column: Column, value: Any, descending: bool) -> ColumnElement[bool]:
    beyond: ColumnElement[bool] = column < value if descending else column > value
    return beyond


def _past(
    columns: Sequence[Column], values: Sequence[Any], descending: bool, inclusive: bool
) -> ColumnElement[bool]:
    first, *rest = columns
    value, *later = values
    if not rest:
        if inclusive:
            at_least: ColumnElement[bool] = first <= value if descending else first >= value
            return at_least
        return _beyond(first, value, descending)
    tail = _past(rest, later, descending, inclusive)
    return or_(_beyond(first, value, descending), and_(first == value, tail))
