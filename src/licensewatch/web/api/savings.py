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
) -> dict[str, Any]:
    """Yearly saving in total, by action and by product; each recommendation; usage as of."""
    if tenant and not tenant_refs(session, tenant):
        raise HTTPException(404, f"no tenant named {tenant!r}")
    filters = filters_of(action, product, confidence)
    return visible_savings(request, session, tenant or "").narrow(filters).to_dict()
