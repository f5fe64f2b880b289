"""Paging parameters every list page and API endpoint shares: a cursor, or a bounded offset."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import Field

from licensewatch.web.queries.keyset import MAX_CURSOR

# An offset re-reads every row it skips, so it is a fallback for short jumps only: beyond this,
# follow `next_cursor` (an index seek wherever the page is). Larger offsets answer 422.
MAX_OFFSET = 10_000

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[
    int,
    Query(ge=0, le=MAX_OFFSET, description=f"rows to skip (at most {MAX_OFFSET}: use cursor)"),
]
Cursor = Annotated[
    str,
    Query(
        max_length=MAX_CURSOR,
        description="the `next_cursor` of the previous page: the next page starts after it",
    ),
]

# The same bounds as fields of a resource's parameter model (web/twins.py).
LimitField = Annotated[int, Field(ge=1, le=500)]
OffsetField = Annotated[
    int, Field(ge=0, le=MAX_OFFSET, description=f"rows to skip (at most {MAX_OFFSET}: use cursor)")
]
CursorField = Annotated[
    str,
    Field(
        max_length=MAX_CURSOR,
        description="the `next_cursor` of the previous page: the next page starts after it",
    ),
]
