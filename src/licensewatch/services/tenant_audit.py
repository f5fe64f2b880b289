"""What the audit log says of a tenant change: field names and credential kind, never a secret."""

from __future__ import annotations

import dataclasses

from licensewatch.domain.certificates import ClientCertificate
from licensewatch.services.audit import DetailValue
from licensewatch.services.tenant_views import NewCredential, TenantSettings


def changed_fields(settings: TenantSettings) -> list[str]:
    """The names of the fields a change sets, not their values: one rule that cannot leak."""
    return [
        field.name
        for field in dataclasses.fields(settings)
        if not field.name.endswith("_from_web")
        and getattr(settings, field.name) not in (None, False)
    ]


def credential_detail(credential: NewCredential | None) -> dict[str, DetailValue]:
    """The kind and public identifiers: a certificate's thumbprint, a secret's expiry date."""
    if credential is None:
        return {}
    if isinstance(credential, ClientCertificate):
        return {"credential": "certificate", "thumbprint": credential.thumbprint}
    expires = credential.expires
    return {"credential": "secret", "expires": expires.isoformat() if expires else None}
