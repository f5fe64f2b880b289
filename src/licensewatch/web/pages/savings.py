"""The Savings page: yearly savings by action and product, each user's recommendation (a page at
a time, keyset), exports (streamed from the stored recommendations)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from licensewatch.intelligence.read_models.recommendations_readers import StaleCursor
from licensewatch.intelligence.recommendations import CSV_COLUMNS
from licensewatch.intelligence.savings import (
    Filters,
    Savings,
    savings_rows,
    tenant_savings,
)
from licensewatch.storage.models.base import utcnow
from licensewatch.tabular import pick, xlsx_bytes
from licensewatch.web import scope
from licensewatch.web.auth import PageCaller
from licensewatch.web.context import engine_of, reader
from licensewatch.web.exports import csv_chunks
from licensewatch.web.queries.common import tenant_refs

router = APIRouter()
Reader = Annotated[Session, Depends(reader)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def filters_of(action: str, product: str, confidence: str) -> Filters:
    """The page's and the API's filters; 422 for an unknown action or confidence."""
    try:
        return Filters(action or None, product.strip() or None, confidence or None)
    except ValueError as error:
        raise HTTPException(422, str(error)) from None


def visible_names(session: Session, tenant: str) -> list[str]:
    """The chosen tenant, or all the caller may see (404 otherwise)."""
    return [ref.name for ref in scope.chosen(tenant_refs(session), tenant)]


def visible_savings(
    request: Request,
    session: Session,
    tenant: str,
    filters: Filters,
    *,
    limit: int | None,
    cursor: str | None = None,
) -> Savings:
    """The sums over the caller's tenants and a page of recommendations (None: all of them);
    409 for a cursor of recommendations recomputed since, 422 for one never returned."""
    try:
        return tenant_savings(
            engine_of(request), visible_names(session, tenant), filters, limit=limit, cursor=cursor
        )
    except StaleCursor as error:
        raise HTTPException(409, str(error)) from None
    except ValueError as error:
        raise HTTPException(422, str(error)) from None


@router.get("/savings/export.{fmt}")
def savings_download(
    fmt: Literal["csv", "xlsx"],
    request: Request,
    caller: PageCaller,
    session: Reader,
    tenant: str = "",
    action: str = "",
    product: str = "",
    confidence: str = "",
) -> Response:
    """Every recommendation the filters keep, read from the stored rows in batches."""
    filters = filters_of(action, product, confidence)
    names = visible_names(session, tenant)
    found = savings_rows(engine_of(request), names, filters)
    rows = (pick(rec.csv_row(), CSV_COLUMNS) for rec in found)
    stem = f"licensewatch-savings-{tenant or 'all'}-{utcnow():%Y%m%d-%H%M}"
    if fmt == "xlsx":
        body = xlsx_bytes("savings", CSV_COLUMNS, rows)  # write-only: rows are not held
        disposition = f'attachment; filename="{stem}.xlsx"'
        return Response(body, media_type=XLSX, headers={"content-disposition": disposition})

    def chunks() -> Iterator[str]:
        yield "\ufeff"  # a BOM so Excel opens the UTF-8 file with the right encoding
        yield from csv_chunks(list(CSV_COLUMNS), rows)

    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{stem}.csv"'},
    )
