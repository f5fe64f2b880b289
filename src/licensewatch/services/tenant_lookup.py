"""A tenant found by its local name, for readers that need no Graph or onboarding code."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from licensewatch.storage.models.tenants import Tenant


class TenantNotFound(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no tenant named {name!r}: see `licensewatch tenant list`")


def tenant_by_name(session: Session, name: str) -> Tenant:
    """The tenant of that name (as typed, surrounding blanks ignored), or TenantNotFound."""
    tenant = session.scalar(select(Tenant).where(Tenant.name == name.strip()))
    if tenant is None:
        raise TenantNotFound(name)
    return tenant
