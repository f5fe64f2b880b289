"""Tenants as pages and the API list them: identity, last sync, and never a credential's content."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from licensewatch.storage.models.inventory import Sku
from licensewatch.storage.models.tenants import Credential, Tenant
from licensewatch.web.queries.common import tenant_refs
from licensewatch.web.queries.runs import RunRow, latest_completed, latest_runs


class CredentialSummary(BaseModel):
    """What an admin may see about a credential: its kind and expiry, never its content."""

    kind: str
    thumbprint: str | None
    expires_at: datetime | None


class TenantSummary(BaseModel):
    """A tenant with its last sync; `credential` is filled for admins only."""

    name: str
    organization_name: str | None
    tenant_id: str
    cloud: str
    products: int
    last_run: RunRow | None
    last_success_at: datetime | None
    credential: CredentialSummary | None = None


def tenant_summaries(
    session: Session, *, with_credentials: bool = False, name: str | None = None
) -> list[TenantSummary]:
    """Every tenant (or the named one), by name."""
    refs = tenant_refs(session, name)
    last = latest_runs(session, refs)
    success = latest_completed(session, refs)
    products = dict(
        session.execute(select(Sku.tenant_id, func.count()).group_by(Sku.tenant_id)).all()
    )
    query = select(Tenant, Credential).outerjoin(Credential, Credential.tenant_id == Tenant.id)
    if name:
        query = query.where(Tenant.name == name)
    summaries = []
    for tenant, credential in session.execute(query.order_by(Tenant.name)):
        summary = None
        if with_credentials and credential is not None:
            summary = CredentialSummary(
                kind=credential.kind,
                thumbprint=credential.thumbprint,
                expires_at=credential.certificate_not_after or credential.secret_expires_at,
            )
        summaries.append(
            TenantSummary(
                name=tenant.name,
                organization_name=tenant.organization_name,
                tenant_id=tenant.resolved_tenant_id or tenant.directory_id,
                cloud=tenant.cloud,
                products=products.get(tenant.id, 0),
                last_run=last.get(tenant.name),
                last_success_at=success.get(tenant.name),
                credential=summary,
            )
        )
    return summaries
