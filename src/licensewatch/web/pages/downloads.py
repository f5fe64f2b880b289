"""CSV and XLSX downloads of the balance, users with licences, and subscriptions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.responses import Response

from licensewatch.services.audit import note
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.base import utcnow
from licensewatch.web import exports
from licensewatch.web.auth import PageCaller
from licensewatch.web.context import caller_scope, engine_of, reader
from licensewatch.web.queries.balance import balance_rows
from licensewatch.web.queries.common import SCOPE_KEY, tenant_refs
from licensewatch.web.queries.products import subscription_rows
from licensewatch.web.queries.users import user_licence_rows

router = APIRouter()
Reader = Annotated[Session, Depends(reader)]
Dataset = Literal["balance", "users", "subscriptions"]
Format = Literal["csv", "xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rows(session: Session, dataset: Dataset, tenant: str | None) -> Iterable[list[exports.Cell]]:
    if dataset == "balance":
        return (exports.balance_cells(r) for r in balance_rows(session, tenant))
    refs = tenant_refs(session, tenant)
    if dataset == "users":
        return (exports.user_cells(r) for r in user_licence_rows(session, refs))
    return (exports.subscription_cells(r) for r in subscription_rows(session, refs))


COLUMNS: dict[str, list[str]] = {
    "balance": exports.BALANCE_COLUMNS,
    "users": exports.USER_COLUMNS,
    "subscriptions": exports.SUBSCRIPTION_COLUMNS,
}


@router.get("/exports/{dataset}.{fmt}")
def download(
    dataset: Dataset,
    fmt: Format,
    request: Request,
    caller: PageCaller,
    session: Reader,
    tenant: str = "",
) -> Response:
    if tenant and not tenant_refs(session, tenant):
        raise HTTPException(404, f"No tenant named {tenant!r}.")
    stem = f"licensewatch-{dataset}-{tenant or 'all'}-{utcnow():%Y%m%d-%H%M}"
    detail = {"dataset": dataset, "format": fmt, "tenant": tenant or "all"}
    note(engine_of(request), "export.downloaded", detail)
    if fmt == "xlsx":
        body = exports.xlsx_bytes(
            dataset, COLUMNS[dataset], _rows(session, dataset, tenant or None)
        )
        disposition = f'attachment; filename="{stem}.xlsx"'
        return Response(body, media_type=XLSX, headers={"content-disposition": disposition})
    return StreamingResponse(
        _stream(engine_of(request), dataset, tenant or None, caller_scope(request)),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{stem}.csv"'},
    )


def _stream(
    engine: Engine, dataset: Dataset, tenant: str | None, allowed: frozenset[str] | None
) -> Iterator[str]:
    # A stream outlives the request's session: it opens a read transaction of its own, in the
    # same tenant scope.
    with session_scope(engine, write=False) as session:
        session.info[SCOPE_KEY] = lambda: allowed
        yield "\ufeff"  # a BOM so Excel opens the UTF-8 file with the right encoding
        yield from exports.csv_chunks(COLUMNS[dataset], _rows(session, dataset, tenant))
