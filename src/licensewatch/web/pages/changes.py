"""The licence change history page (filters, paging) and its CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.responses import Response

from licensewatch.intelligence.history import ChangeQuery
from licensewatch.services.audit import note
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import ChangeKind
from licensewatch.storage.models.base import utcnow
from licensewatch.web import exports
from licensewatch.web.auth import PageCaller
from licensewatch.web.context import engine_of, reader
from licensewatch.web.queries.changes import (
    BadFilter,
    ChangeFilter,
    all_changes,
    in_scope,
)
from licensewatch.web.queries.common import tenant_refs

router = APIRouter()
Reader = Annotated[Session, Depends(reader)]
PAGE_SIZE = 100


def change_filter(
    tenant: str = "",
    sku_id: str = "",
    user: str = "",
    user_id: str = "",
    kind: str = "",
    since: str = "",
    until: str = "",
) -> ChangeFilter:
    """The filters as the page and its CSV export take them from the query string."""
    return ChangeFilter(tenant, sku_id, user, user_id, kind, since, until)


Filters = Annotated[ChangeFilter, Depends(change_filter)]


def checked_query(session: Session, filters: ChangeFilter) -> ChangeQuery:
    if filters.tenant and not tenant_refs(session, filters.tenant):
        raise HTTPException(404, f"No tenant named {filters.tenant!r}.")
    if filters.kind and filters.kind not in {k.value for k in ChangeKind}:
        raise HTTPException(422, f"{filters.kind!r} is not a kind of change.")
    try:
        return in_scope(session, filters.query())
    except BadFilter as error:
        raise HTTPException(422, str(error)) from None


@router.get("/changes.csv")
def changes_csv(
    request: Request, caller: PageCaller, session: Reader, filters: Filters
) -> Response:
    # Scoped here, in the request's session: the stream reads in a session of its own.
    query = checked_query(session, filters)
    stem = f"licensewatch-changes-{filters.tenant or 'all'}-{utcnow():%Y%m%d-%H%M}"
    detail = {"dataset": "changes", "format": "csv", "tenant": filters.tenant or "all"}
    note(engine_of(request), "export.downloaded", detail)
    return StreamingResponse(
        _stream(engine_of(request), query),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{stem}.csv"'},
    )


def _stream(engine: Engine, query: ChangeQuery) -> Iterator[str]:
    # A stream outlives the request's session: it reads in a transaction of its own.
    with session_scope(engine, write=False) as session:
        yield "\ufeff"  # a BOM so Excel opens the UTF-8 file with the right encoding
        rows = (exports.change_cells(row) for row in all_changes(session, query))
        yield from exports.csv_chunks(exports.CHANGE_COLUMNS, rows)
