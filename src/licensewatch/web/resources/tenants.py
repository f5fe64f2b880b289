"""Tenants: the list (identity and last sync; credential details for admins only) and one."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from sqlalchemy.orm import Session

from licensewatch.web.queries.common import TenantRef, tenant_refs
from licensewatch.web.queries.tenants import TenantSummary, tenant_summaries
from licensewatch.web.twins import Ask, NoParams, Resource


def tenant_or_404(session: Session, name: str) -> TenantRef:
    refs = tenant_refs(session, name)
    if not refs:
        raise HTTPException(404, f"no tenant named {name!r}")
    return refs[0]


def load_tenants(ask: Ask[NoParams]) -> list[TenantSummary]:
    return tenant_summaries(ask.session, with_credentials=ask.caller.is_admin)


def tenants_page(ask: Ask[NoParams], summaries: list[TenantSummary]) -> dict[str, Any]:
    return {"tenants": summaries}


def load_tenant(ask: Ask[NoParams]) -> TenantSummary:
    name = ask.path["name"]
    found = tenant_summaries(ask.session, with_credentials=ask.caller.is_admin, name=name)
    if not found:
        raise HTTPException(404, f"no tenant named {name!r}")
    return found[0]


TENANTS = Resource(
    name="list_tenants",
    api_path="/tenants",
    page_path="/tenants",
    params=NoParams,
    load=load_tenants,
    template="tenants.html",
    page=tenants_page,
    response_model=list[TenantSummary],
    tag="tenants",
    doc="Every tenant with its last sync run.",
)
# API only: the page of one tenant is its settings form (administrators, web/pages/tenants.py).
TENANT = Resource(
    name="get_tenant",
    api_path="/tenants/{name}",
    params=NoParams,
    load=load_tenant,
    response_model=TenantSummary,
    tag="tenants",
    doc="One tenant.",
)
