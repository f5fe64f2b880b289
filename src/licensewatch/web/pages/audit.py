"""The audit log page (administrators): who changed what, when, from where; sign-ins too."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from licensewatch.services.audit import recent
from licensewatch.web.auth import PageAdmin
from licensewatch.web.context import engine_of
from licensewatch.web.paging import Offset
from licensewatch.web.templating import render

router = APIRouter()
PAGE_SIZE = 100


@router.get("/audit")
def audit_page(request: Request, caller: PageAdmin, offset: Offset = 0) -> Response:
    events = recent(engine_of(request), PAGE_SIZE + 1, offset)
    return render(
        request,
        "audit.html",
        caller,
        events=events[:PAGE_SIZE],
        offset=offset,
        more=len(events) > PAGE_SIZE,
        page_size=PAGE_SIZE,
    )
