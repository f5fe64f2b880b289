"""A tenant found by its local name, for readers that need no Graph or onboarding code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from licensewatch.storage.plain_sql import Bind, rows

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from licensewatch.storage.models.tenants import Tenant


class TenantNotFound(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no tenant named {name!r}: see `licensewatch tenant list`")


def tenant_by_name(session: Session, name: str) -> Tenant:
    """The tenant of that name (as typed, surrounding blanks ignored), or TenantNotFound."""
    from sqlalchemy import select

    from licensewatch.storage.models.tenants import Tenant

    tenant = session.scalar(select(Tenant).where(Tenant.name == name.strip()))
    if tenant is None:
        raise TenantNotFound(name)
    return tenant


def known_tenant_name(bind: Bind, name: str) -> str:
    """The stored name of the tenant `tenant_by_name` finds (plain SQL), or TenantNotFound."""
    found = rows(bind, "SELECT name FROM tenants WHERE name = :name", {"name": name.strip()})
    if not found:
        raise TenantNotFound(name)
    return str(found[0][0])
