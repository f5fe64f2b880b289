"""API: sync runs, and starting a sync (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from licensewatch.web.auth import ApiAdmin
from licensewatch.web.context import app_context, reader
from licensewatch.web.resources.tenants import tenant_or_404

router = APIRouter(tags=["sync"])
Reader = Annotated[Session, Depends(reader)]


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
