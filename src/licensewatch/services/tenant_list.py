"""Every tenant's view (no secret) in plain SQL, for `tenant list` (sqlite3 or SQLAlchemy)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from licensewatch.services.tenant_views import TenantView, view_of
from licensewatch.storage.plain_sql import Bind, flag, rows, utc

TENANTS_SQL = (
    "SELECT id, name, directory_id, resolved_tenant_id, organization_name, client_id, cloud,"
    " authority_host, graph_endpoint, ca_bundle, sync_interval_seconds, last_full_sync_at,"
    " created_at, allow_writes, four_eyes FROM tenants ORDER BY name"
)
CREDENTIALS_SQL = (
    "SELECT tenant_id, kind, thumbprint, certificate_not_after, secret_expires_at FROM credentials"
)


class TenantRow(NamedTuple):
    """The columns `view_of` reads of a tenant, in TENANTS_SQL's order."""

    id: int
    name: str
    directory_id: str
    resolved_tenant_id: str | None
    organization_name: str | None
    client_id: str
    cloud: str
    authority_host: str | None
    graph_endpoint: str | None
    ca_bundle: str | None
    sync_interval_seconds: int | None
    last_full_sync_at: datetime | None
    created_at: datetime | None
    allow_writes: bool | None
    four_eyes: bool | None


class CredentialRow(NamedTuple):
    kind: str
    thumbprint: str | None
    certificate_not_after: datetime | None
    secret_expires_at: datetime | None


def list_tenants(bind: Bind) -> list[TenantView]:
    """The tenants by name, each with what may be shown of its credential (one transaction)."""
    kept = {
        tenant_id: CredentialRow(kind, thumbprint, utc(not_after), utc(expires))
        for tenant_id, kind, thumbprint, not_after, expires in rows(bind, CREDENTIALS_SQL)
    }
    found = []
    for row in rows(bind, TENANTS_SQL):
        converted = (utc(row[11]), utc(row[12]), flag(row[13]), flag(row[14]))
        tenant = TenantRow._make((*row[:11], *converted))  # the last four: timestamps, flags
        found.append(view_of(tenant, kept.get(tenant.id)))
    return found
