"""The dashboard (licence balance per tenant and overall), Sync now, and the sync runs page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from licensewatch.intelligence.savings import tenant_savings
from licensewatch.web.auth import AdminForm, PageCaller
from licensewatch.web.context import app_context, engine_of, reader
from licensewatch.web.queries.balance import balance_rows, combined_rows, totals, trends
from licensewatch.web.queries.common import tenant_refs
from licensewatch.web.queries.tenants import tenant_summaries
from licensewatch.web.templating import render

router = APIRouter()
Reader = Annotated[Session, Depends(reader)]


@router.get("/")
def dashboard(request: Request, caller: PageCaller, session: Reader, tenant: str = "") -> Response:
    summaries = tenant_summaries(session)
    if tenant and not any(t.name == tenant for t in summaries):
        raise HTTPException(404, f"No tenant named {tenant!r}.")
    rows = balance_rows(session, tenant or None)
    sections = [
        (summary, [r for r in rows if r.tenant == summary.name])
        for summary in summaries
        if not tenant or summary.name == tenant
    ]
    combined = combined_rows(rows) if not tenant and len(summaries) > 1 else []
    # The card of the Savings page: its yearly total over the same tenants.
    shown = [summary.name for summary in summaries if not tenant or summary.name == tenant]
    savings = tenant_savings(engine_of(request), shown, limit=0)  # the stored sums only
    return render(
        request,
        "dashboard.html",
        caller,
        summaries=summaries,
        selected=tenant,
        sections=sections,
        combined=combined,
        # Paid products only (domain/balance.py): the cards add up and equal the API's totals.
        totals=totals(combined or rows),
        trends=trends(session, tenant or None),
        running=app_context(request).launcher.running(session.connection()),
        saving=savings.total,
        saving_unpriced=savings.unpriced,
        saving_count=savings.count,
        # Usage reports lag: the card says the oldest report date it rests on.
        saving_as_of=min((u.as_of for u in savings.usage if u.as_of), default=None),
    )


@router.post("/tenants/{name}/sync")
def sync_now(name: str, request: Request, caller: AdminForm, session: Reader) -> Response:
    if not tenant_refs(session, name):
        raise HTTPException(404, f"No tenant named {name!r}.")
    started = app_context(request).launcher.launch(name)
    notice = "started" if started else "running"
    return RedirectResponse(f"/sync?tenant={quote(name)}&notice={notice}", 303)
