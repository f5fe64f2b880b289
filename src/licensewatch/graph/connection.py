"""What it takes to reach one tenant: tenant, app (client) ID, credential and cloud endpoints."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from licensewatch.graph.clouds import Cloud

# MSAL deprecates these authorities for client credentials; app-only tokens need one real tenant.
_MULTI_TENANT_ALIASES = frozenset({"common", "organizations", "consumers"})
_URL_BREAKERS = frozenset("/?#\\ \t\r\n")


@dataclass(frozen=True, slots=True)
class ClientSecretCredential:
    """A client secret's *Value* (never shown by repr)."""

    secret: str = field(repr=False)

    def __repr__(self) -> str:
        return "ClientSecretCredential(secret=<hidden>)"


@dataclass(frozen=True, slots=True)
class CertificateCredential:
    """A certificate uploaded to the app registration plus its private key (never shown by repr)."""

    private_key_pem: bytes = field(repr=False)
    certificate_pem: bytes

    def __repr__(self) -> str:
        return (
            f"CertificateCredential(thumbprint_sha1={self.thumbprint_sha1!r}, private_key=<hidden>)"
        )

    @property
    def thumbprint_sha1(self) -> str:
        """SHA-1 of the certificate DER, uppercase hex: the Thumbprint the Entra portal shows."""
        cert = x509.load_pem_x509_certificate(self.certificate_pem)
        return cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - Entra's certificate identifier


Credential = ClientSecretCredential | CertificateCredential


def _strip_slash(url: str) -> str:
    return url.rstrip("/")


@dataclass(frozen=True, slots=True)
class GraphConnection:
    """Connection settings; `authority_host`/`graph_endpoint` override the cloud's (emulator)."""

    tenant: str
    client_id: str
    credential: Credential
    cloud: Cloud = Cloud.GLOBAL
    authority_host: str | None = None
    graph_endpoint: str | None = None
    ca_bundle: str | None = None

    def __post_init__(self) -> None:
        tenant = self.tenant.strip()
        if not tenant or any(ch in _URL_BREAKERS for ch in tenant):
            raise ValueError(f"tenant {self.tenant!r} must be a tenant ID (GUID) or a domain name")
        if tenant.lower() in _MULTI_TENANT_ALIASES:
            raise ValueError(
                f"tenant {tenant!r} is a multi-tenant alias; use the Directory (tenant) ID "
                "from Entra ID > Overview"
            )
        if not self.client_id.strip():
            raise ValueError("client_id is empty")
        object.__setattr__(self, "tenant", tenant)
        object.__setattr__(self, "client_id", self.client_id.strip())

    @property
    def resolved_authority_host(self) -> str:
        return _strip_slash(self.authority_host or self.cloud.authority_host)

    @property
    def resolved_graph_endpoint(self) -> str:
        return _strip_slash(self.graph_endpoint or self.cloud.graph_endpoint)

    @property
    def authority_url(self) -> str:
        """MSAL authority, e.g. https://login.microsoftonline.com/contoso.onmicrosoft.com."""
        return f"{self.resolved_authority_host}/{self.tenant}"

    @property
    def graph_base(self) -> str:
        """Graph v1.0 root, e.g. https://graph.microsoft.com/v1.0."""
        return f"{self.resolved_graph_endpoint}/v1.0"

    @property
    def scope(self) -> str:
        """The client-credentials scope, e.g. https://graph.microsoft.com/.default.

        Always the cloud's Graph resource: a custom `graph_endpoint` (emulator, reverse proxy)
        changes where requests go, not the audience Graph expects in the token.
        """
        return f"{self.cloud.graph_endpoint}/.default"
