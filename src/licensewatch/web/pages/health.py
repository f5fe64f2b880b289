"""`/healthz`: is the app up, can it reach its database; each tenant's last sync when signed in.

Anonymous callers (a load balancer) get counts only: the tenant names of an MSP are its
customer list. `LICENSEWATCH_HEALTHZ_PUBLIC_TENANTS=true` shows them to everyone.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from licensewatch.storage.database import session_scope
from licensewatch.storage.models.runs import SyncStatus
from licensewatch.web.auth import session_caller
from licensewatch.web.context import app_context, engine_of
from licensewatch.web.identity import token_principal
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
    body = {"status": "ok", "database": {"ok": True}}
    if app_context(request).settings.healthz_public_tenants or _signed_in(request):
        return JSONResponse({**body, "tenants": tenants})
    failing = sum(1 for t in tenants if t["last_sync_status"] == SyncStatus.FAILED)
    return JSONResponse({**body, "tenant_count": len(tenants), "tenants_failing": failing})


def _signed_in(request: Request) -> bool:
    """A browser session or a valid Bearer token (a monitoring script's)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token_principal(engine_of(request), token.strip()) is not None
    return session_caller(request) is not None
