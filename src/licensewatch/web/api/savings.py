"""API: the savings (recommendations with yearly savings by action and product, usage dates)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.orm import Session

from licensewatch.web.auth import ApiCaller
from licensewatch.web.context import reader
from licensewatch.web.pages.savings import filters_of, visible_savings
from licensewatch.web.queries.common import tenant_refs

router = APIRouter(tags=["savings"])
MAX_LIMIT = 5000
Reader = Annotated[Session, Depends(reader)]


@router.get("/savings")
def get_savings(
    request: Request,
    caller: ApiCaller,
    session: Reader,
    tenant: str | None = None,
    action: str = "",
    product: str = "",
    confidence: str = "",
    cursor: str | None = None,
    limit: int = 1000,
) -> dict[str, Any]:
    """Yearly saving in total, by action and by product; usage as of; the first `limit`
    recommendations (at most 5000, most money first). Follow `next_cursor` (with the same
    filters) for the next ones; 409 when the recommendations were recomputed since."""
    if not 0 <= limit <= MAX_LIMIT:
        raise HTTPException(422, f"limit must be between 0 and {MAX_LIMIT}")
    if tenant and not tenant_refs(session, tenant):
        raise HTTPException(404, f"no tenant named {tenant!r}")
    filters = filters_of(action, product, confidence)
    shown = visible_savings(request, session, tenant or "", filters, limit=limit, cursor=cursor)
    return shown.to_dict()
