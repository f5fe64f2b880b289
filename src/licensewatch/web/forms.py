"""Onboarding form input turned into the tenant service's values (the CLI's validation, reused)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from starlette.datastructures import UploadFile

from licensewatch.domain.certificates import ClientCertificate, load_certificate
from licensewatch.domain.identifiers import InvalidInput, parse_client_id, parse_tenant
from licensewatch.graph.clouds import Cloud
from licensewatch.graph.connection import (
    CertificateCredential,
    ClientSecretCredential,
    Credential,
    GraphConnection,
)
from licensewatch.services.tenants import NewCredential, SecretInput, check_ca_bundle

MAX_UPLOAD = 256 * 1024  # certificates and PFX files are a few KB


@dataclass
class CredentialForm:
    """The credential part of the form; the secret is never rendered back."""

    kind: str = "secret"
    secret: str = field(default="", repr=False)
    secret_expires: str = ""
    certificate: bytes = field(default=b"", repr=False)
    private_key: bytes = field(default=b"", repr=False)
    password: str = field(default="", repr=False)

    def parse(self) -> NewCredential:
        if self.kind == "certificate":
            if not self.certificate:
                raise InvalidInput("choose the certificate file (PEM with its key, or PFX)")
            certificate = load_certificate(
                self.certificate, self.private_key or None, self.password.encode() or None
            )
            if certificate.is_expired():
                # The CLI warns; a form would save it silently, and Entra refuses it anyway.
                raise InvalidInput(
                    f"certificate {certificate.thumbprint} expired on "
                    f"{certificate.not_after:%Y-%m-%d}: Entra refuses it. Create a new "
                    "certificate, upload it to the app registration, and choose it here."
                )
            return certificate
        if not self.secret:
            raise InvalidInput("paste the client secret's Value")
        expires = None
        if self.secret_expires.strip():
            try:
                expires = dt.date.fromisoformat(self.secret_expires.strip())
            except ValueError:
                raise InvalidInput("the secret's expiry must be a date (YYYY-MM-DD)") from None
            if expires <= dt.datetime.now(dt.UTC).date():
                raise InvalidInput(
                    f"the secret expired on {expires}: Entra refuses it. Create a new client "
                    "secret in the app registration and paste its Value here."
                )
        return SecretInput(self.secret, expires)


@dataclass
class TenantForm:
    """Every onboarding field as typed, for re-rendering and parsing."""

    name: str = ""
    tenant_id: str = ""
    client_id: str = ""
    cloud: str = Cloud.GLOBAL.value
    authority_host: str = ""
    graph_endpoint: str = ""
    ca_bundle: str = ""
    credential: CredentialForm = field(default_factory=CredentialForm)

    def connection(self, parsed: NewCredential) -> GraphConnection:
        """A connection for "Test connection" before anything is saved."""
        try:
            cloud = Cloud(self.cloud)
        except ValueError:
            raise InvalidInput(f"unknown cloud {self.cloud!r}") from None
        if bool(self.authority_host.strip()) != bool(self.graph_endpoint.strip()):
            raise InvalidInput(
                "authority host and Graph endpoint go together: give both or neither"
            )
        return GraphConnection(
            tenant=parse_tenant(self.tenant_id),
            client_id=parse_client_id(self.client_id),
            credential=graph_credential(parsed),
            cloud=cloud,
            authority_host=self.authority_host.strip() or None,
            graph_endpoint=self.graph_endpoint.strip() or None,
            # One message whatever is wrong with the path: it must not probe the server's files.
            ca_bundle=check_ca_bundle(self.ca_bundle.strip(), from_web=True)
            if self.ca_bundle.strip()
            else None,
        )


def graph_credential(credential: NewCredential) -> Credential:
    if isinstance(credential, ClientCertificate):
        return CertificateCredential(
            private_key_pem=credential.private_key_pem, certificate_pem=credential.certificate_pem
        )
    return ClientSecretCredential(credential.value)


async def read_upload(upload: UploadFile | str | None) -> bytes:
    """An uploaded file's bytes (empty when none was chosen), refusing oversized files."""
    if upload is None or isinstance(upload, str):
        return b""
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InvalidInput("the file is too large for a certificate (over 256 KB)")
    return data
