"""Every tenant's view (no secret), read with SQLAlchemy Core: `tenant list` and the service."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from licensewatch.services.tenant_views import TenantView, view_of
from licensewatch.storage.core_tables import credentials, tenants
from licensewatch.storage.database import read_transaction


def list_tenants(engine: Engine) -> list[TenantView]:
    """The tenants by name, each with what may be shown of its credential."""
    with read_transaction(engine) as connection:
        found = connection.execute(select(tenants).order_by(tenants.c.name)).all()
        kept: dict[int, Any] = {
            row.tenant_id: row for row in connection.execute(select(credentials))
        }
    return [view_of(row, kept.get(row.id)) for row in found]
