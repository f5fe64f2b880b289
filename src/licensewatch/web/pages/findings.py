"""Findings and costs pages, and the findings CSV export: read from the stored read models."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from starlette.responses import Response

from licensewatch.intelligence.findings import CSV_COLUMNS, FindingRule
from licensewatch.intelligence.findings.ranking import by_money, total_at_stake
from licensewatch.intelligence.read_models.findings_store import StaleCursor
from licensewatch.intelligence.read_models.readers import (
    PAGE_SIZE,
    findings_csv,
    stored_findings,
)
from licensewatch.storage.models import utcnow
from licensewatch.web import scope
from licensewatch.web.auth import PageCaller
from licensewatch.web.context import engine_of
from licensewatch.web.exports import csv_chunks
from licensewatch.web.pages.intelligence import chosen_tenant, price_note_of, visible_tenants
from licensewatch.web.templating import render

router = APIRouter()


def _rule(rule: str) -> FindingRule | None:
    if not rule:
        return None
    try:
        return FindingRule(rule)
    except ValueError:
        raise HTTPException(404, f"No finding rule {rule!r}.") from None


@router.get("/findings")
def findings_page(
    request: Request, caller: PageCaller, tenant: str = "", rule: str = "", cursor: str = ""
) -> Response:
    """Every rule's counts and money, the first affected rows of each; `rule` (with `tenant`)
    and `cursor` page through one rule's rows (keyset on the stored rows)."""
    engine = engine_of(request)
    chosen, one = chosen_tenant(request, tenant), _rule(rule)
    if one is not None and chosen is None:
        raise HTTPException(422, "Choose a tenant to page through one rule (?tenant=NAME).")
    try:
        results = scope.per_tenant(
            request,
            chosen,
            lambda t: stored_findings(engine, t, rule=one, cursor=cursor or None, limit=PAGE_SIZE),
        )
    except StaleCursor as error:
        raise HTTPException(409, f"{error}: /findings?tenant={tenant}") from None
    except ValueError as error:
        raise HTTPException(422, str(error)) from None
    results = by_money(results)
    return render(
        request,
        "findings.html",
        caller,
        findings=results,
        total=total_at_stake(results),
        price_note=price_note_of(request),
        tenants=visible_tenants(request),
        selected=tenant,
        rule=one,
        paged=bool(cursor),
        page_size=PAGE_SIZE,
    )


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
