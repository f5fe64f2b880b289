"""API: tenants (identity and last sync; never a secret, credential details for admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.orm import Session

from licensewatch.web.auth import ApiCaller
from licensewatch.web.context import reader
from licensewatch.web.queries.tenants import TenantSummary, tenant_summaries

router = APIRouter(tags=["tenants"])
Reader = Annotated[Session, Depends(reader)]


@router.get("/tenants", response_model=list[TenantSummary])
def list_tenants(caller: ApiCaller, session: Reader) -> list[TenantSummary]:
    """Every tenant with its last sync run."""
    return tenant_summaries(session, with_credentials=caller.is_admin)


@router.get("/tenants/{name}", response_model=TenantSummary)
def get_tenant(name: str, caller: ApiCaller, session: Reader) -> TenantSummary:
    """One tenant."""
    found = tenant_summaries(session, with_credentials=caller.is_admin, name=name)
    if not found:
        raise HTTPException(404, f"no tenant named {name!r}")
    return found[0]
