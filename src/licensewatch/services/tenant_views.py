"""A tenant's inputs (settings, a new credential) and what is shown of it (never a secret)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from licensewatch.domain.identifiers import check_secret_value
from licensewatch.graph.clouds import Cloud
from licensewatch.storage.kinds import CredentialKind

if TYPE_CHECKING:
    # Type-only: loading certificates imports `cryptography`, which `tenant list` never needs.
    from licensewatch.domain.certificates import ClientCertificate
    from licensewatch.storage.models.tenants import Tenant


@dataclass(frozen=True)
class SecretInput:
    """A client secret's Value (checked on construction) and the expiry the admin chose in Entra."""

    value: str = field(repr=False)
    expires: dt.date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", check_secret_value(self.value))

    @property
    def expires_at(self) -> dt.datetime | None:
        return dt.datetime.combine(self.expires, dt.time(), dt.UTC) if self.expires else None


NewCredential: TypeAlias = "SecretInput | ClientCertificate"


@dataclass(frozen=True)
class TenantSettings:
    """Input of `add` (name, IDs and credential required) and of `update` (None: unchanged)."""

    name: str | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    credential: NewCredential | None = None
    cloud: Cloud | None = None
    authority_host: str | None = None
    graph_endpoint: str | None = None
    default_endpoints: bool = False  # drop custom endpoints: back to the cloud's
    ca_bundle: str | None = None
    ca_bundle_from_web: bool = False  # a file only, and one message for every failure
    default_ca_bundle: bool = False
    sync_interval: dt.timedelta | None = None


@dataclass(frozen=True)
class CredentialView:
    """What may be shown about a credential: never the secret or the key."""

    kind: str
    set: bool
    thumbprint: str | None = None
    certificate_not_after: dt.datetime | None = None
    secret_expires_at: dt.datetime | None = None

    def describe(self) -> str:
        if self.kind == CredentialKind.CERTIFICATE:
            expiry = f"{self.certificate_not_after:%Y-%m-%d}" if self.certificate_not_after else "?"
            return f"certificate {self.thumbprint} (expires {expiry})"
        if self.secret_expires_at is None:
            return "client secret: set"
        return f"client secret: set (expires {self.secret_expires_at:%Y-%m-%d})"


@dataclass(frozen=True)
class TenantView:
    id: int
    name: str
    tenant_id: str
    resolved_tenant_id: str | None
    organization_name: str | None
    client_id: str
    cloud: str
    authority_host: str
    graph_endpoint: str
    ca_bundle: str | None
    sync_interval_seconds: int | None
    credential: CredentialView | None
    last_full_sync_at: dt.datetime | None
    created_at: dt.datetime
    allow_writes: bool = False
    four_eyes: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (timestamps as ISO 8601); holds nothing secret."""
        encoded = json.dumps(asdict(self), default=lambda value: value.isoformat())
        return dict(json.loads(encoded))


def tenant_view(tenant: Tenant) -> TenantView:
    """The view of an ORM tenant (with its credential)."""
    return view_of(tenant, tenant.credential)


def view_of(tenant: Any, row: Any | None) -> TenantView:
    """The view of a tenant's and its credential's columns: ORM objects or Core rows alike."""
    credential = None
    if row is not None:
        credential = CredentialView(
            row.kind, True, row.thumbprint, row.certificate_not_after, row.secret_expires_at
        )
    cloud = Cloud(tenant.cloud)
    return TenantView(
        id=tenant.id,
        name=tenant.name,
        tenant_id=tenant.directory_id,
        resolved_tenant_id=tenant.resolved_tenant_id,
        organization_name=tenant.organization_name,
        client_id=tenant.client_id,
        cloud=cloud.value,
        authority_host=tenant.authority_host or cloud.authority_host,
        graph_endpoint=tenant.graph_endpoint or cloud.graph_endpoint,
        ca_bundle=tenant.ca_bundle,
        sync_interval_seconds=tenant.sync_interval_seconds,
        credential=credential,
        last_full_sync_at=tenant.last_full_sync_at,
        created_at=tenant.created_at,
        allow_writes=tenant.allow_writes,
        four_eyes=tenant.four_eyes,
    )
