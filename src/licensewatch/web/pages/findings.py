"""The findings CSV export, streamed from the stored read model (the page: web/resources)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.responses import Response

from licensewatch.intelligence.findings import CSV_COLUMNS
from licensewatch.intelligence.read_models.readers import findings_csv
from licensewatch.storage.models import utcnow
from licensewatch.web.auth import PageCaller
from licensewatch.web.context import engine_of
from licensewatch.web.exports import csv_chunks
from licensewatch.web.pages.intelligence import chosen_tenant, visible_tenants

router = APIRouter()


@router.get("/findings.csv")
def findings_export(request: Request, caller: PageCaller, tenant: str = "") -> Response:
    """Every affected row of every rule, streamed from the stored rows (never held at once)."""
    engine = engine_of(request)
    chosen = chosen_tenant(request, tenant)
    names = [chosen] if chosen else visible_tenants(request)

    def chunks() -> Iterator[str]:
        yield "\ufeff"  # a BOM so Excel opens the UTF-8 file with the right encoding
        columns = list(CSV_COLUMNS)
        cells = ([row.get(c) for c in columns] for row in findings_csv(engine, names))
        yield from csv_chunks(columns, cells)

    stem = f"licensewatch-findings-{tenant or 'all'}-{utcnow():%Y%m%d-%H%M}"
    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{stem}.csv"'},
    )
