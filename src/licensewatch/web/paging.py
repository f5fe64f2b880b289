"""Paging parameters every list page and API endpoint shares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

# Beyond a 64-bit integer the database refuses the value (a 500); no real list is this long.
MAX_OFFSET = 2**31 - 1

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
