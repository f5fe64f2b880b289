"""The Savings page: yearly savings by action and product, each user's recommendation, exports."""

from __future__ import annotations

import io
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from licensewatch.intelligence.recommendations import CSV_COLUMNS
from licensewatch.intelligence.savings import (
    Filters,
    Savings,
    tenant_savings,
)
from licensewatch.storage.models.base import utcnow
from licensewatch.tabular import pick, write_csv, xlsx_bytes
from licensewatch.web import scope
from licensewatch.web.auth import PageCaller
from licensewatch.web.context import engine_of, reader
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


def visible_savings(request: Request, session: Session, tenant: str) -> Savings:
    """Every recommendation of the chosen tenant, or of all the caller may see (404 otherwise)."""
    chosen = scope.chosen(tenant_refs(session), tenant)
    return tenant_savings(engine_of(request), [ref.name for ref in chosen])


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
    filters = filters_of(action, product, confidence)
    shown = visible_savings(request, session, tenant).narrow(filters)
    rows = [pick(rec.csv_row(), CSV_COLUMNS) for rec in shown.items]
    stem = f"licensewatch-savings-{tenant or 'all'}-{utcnow():%Y%m%d-%H%M}"
    if fmt == "xlsx":
        body = xlsx_bytes("savings", CSV_COLUMNS, rows)
        disposition = f'attachment; filename="{stem}.xlsx"'
        return Response(body, media_type=XLSX, headers={"content-disposition": disposition})
    out = io.StringIO()
    out.write("\ufeff")  # a BOM so Excel opens the UTF-8 file with the right encoding
    write_csv(out, CSV_COLUMNS, rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{stem}.csv"'},
    )
