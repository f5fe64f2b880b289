"""Emulated app registrations: their secrets, certificates, consented roles and sign-in set-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class ClientSecret:
    key_id: str  # the secret's *ID* (what admins paste by mistake)
    value: str
    display_name: str
    expires: datetime


@dataclass(slots=True)
class ClientCertificate:
    thumbprint_sha1: str  # uppercase hex, as the portal shows it
    thumbprint_sha256: str  # uppercase hex
    certificate_pem: bytes
    public_key_pem: bytes
    expires: datetime
    certificate_path: str | None = None
    private_key_path: str | None = None


@dataclass(slots=True)
class App:
    """An app registration and its service principal, with consented application roles."""

    client_id: str
    display_name: str
    secrets: list[ClientSecret] = field(default_factory=list)
    certificates: list[ClientCertificate] = field(default_factory=list)
    # Application permissions with admin consent granted; empty = no consent (token without roles).
    roles: set[str] = field(default_factory=set)
    # A web app that signs people in (OIDC): its redirect URIs, its app roles (value -> id) and
    # who holds which role (a user's or a group's object id -> role values).
    redirect_uris: list[str] = field(default_factory=list)
    app_roles: dict[str, str] = field(default_factory=dict)
    role_assignments: dict[str, set[str]] = field(default_factory=dict)
