"""Tenants as pages and the API list them: identity, last sync, and never a credential's content."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import bindparam, func, select
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


_PRODUCTS = select(Sku.tenant_id, func.count().label("products")).group_by(Sku.tenant_id)
_TENANTS = (
    select(
        Tenant.name,
        Tenant.organization_name,
        Tenant.resolved_tenant_id,
        Tenant.directory_id,
        Tenant.cloud,
        Tenant.id,
        Credential.kind,
        Credential.thumbprint,
        Credential.certificate_not_after,
        Credential.secret_expires_at,
        Credential.id.label("credential_id"),
    )
    .outerjoin(Credential, Credential.tenant_id == Tenant.id)
    .order_by(Tenant.name)
)
_ONE_TENANT = _TENANTS.where(Tenant.name == bindparam("name"))


def tenant_summaries(
    session: Session, *, with_credentials: bool = False, name: str | None = None
) -> list[TenantSummary]:
    """Every tenant (or the named one), by name."""
    refs = tenant_refs(session, name)
    last = latest_runs(session, refs)
    success = latest_completed(session, refs)
    connection = session.connection()  # prebuilt Core statements: see queries.common
    products = {r.tenant_id: r.products for r in connection.execute(_PRODUCTS)}
    rows = connection.execute(_ONE_TENANT, {"name": name}) if name else connection.execute(_TENANTS)
    visible = {ref.name for ref in refs}
    summaries = []
    for row in rows:
        if row.name not in visible:  # out of the caller's tenant scope
            continue
        summary = None
        if with_credentials and row.credential_id is not None:
            summary = CredentialSummary(
                kind=row.kind,
                thumbprint=row.thumbprint,
                expires_at=row.certificate_not_after or row.secret_expires_at,
            )
        summaries.append(
            TenantSummary(
                name=row.name,
                organization_name=row.organization_name,
                tenant_id=row.resolved_tenant_id or row.directory_id,
                cloud=row.cloud,
                products=products.get(row.id, 0),
                last_run=last.get(row.name),
                last_success_at=success.get(row.name),
                credential=summary,
            )
        )
    return summaries
