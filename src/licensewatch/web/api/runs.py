"""API: sync runs, and starting a sync (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from licensewatch.web.api.inventory import tenant_or_404
from licensewatch.web.auth import ApiAdmin, ApiCaller
from licensewatch.web.context import app_context, reader
from licensewatch.web.paging import Cursor, Limit, Offset
from licensewatch.web.queries.common import Page, tenant_refs
from licensewatch.web.queries.runs import RunRow, sync_runs

router = APIRouter(tags=["sync"])
Reader = Annotated[Session, Depends(reader)]


@router.get("/sync-runs", response_model=Page[RunRow])
def get_runs(
    caller: ApiCaller,
    session: Reader,
    tenant: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Cursor = "",
) -> Page[RunRow]:
    """Sync runs, newest first; follow `next_cursor` for older ones."""
    if tenant:
        tenant_or_404(session, tenant)
    refs = tenant_refs(session, tenant)
    return sync_runs(session, refs, limit=limit, offset=offset, cursor=cursor)


@router.post("/tenants/{name}/sync", status_code=202)
def start_sync(name: str, request: Request, caller: ApiAdmin, session: Reader) -> JSONResponse:
    """Starts a sync in the background (admin); 409 when one is already running here."""
    tenant_or_404(session, name)
    started = app_context(request).launcher.launch(name)
    if not started:
        return JSONResponse(
            {"tenant": name, "started": False, "detail": "a sync is already running"}, 409
        )
    return JSONResponse({"tenant": name, "started": True}, 202)
