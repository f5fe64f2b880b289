"""`/healthz`: is the app up, can it reach its database, and when did each tenant last sync."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from licensewatch.storage.database import session_scope
from licensewatch.web.context import engine_of
from licensewatch.web.queries.tenants import tenant_summaries

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    try:
        with session_scope(engine_of(request), write=False) as session:
            session.execute(text("SELECT 1"))
            tenants = [
                {
                    "name": t.name,
                    "last_sync_status": t.last_run.status if t.last_run else None,
                    "last_sync_at": t.last_run.started_at.isoformat() if t.last_run else None,
                    "last_success_at": t.last_success_at.isoformat() if t.last_success_at else None,
                }
                for t in tenant_summaries(session)
            ]
    except Exception as error:
        body = {"status": "error", "database": {"ok": False, "error": type(error).__name__}}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "database": {"ok": True}, "tenants": tenants})
