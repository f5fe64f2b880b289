"""Tables for Entra ID single sign-on: its settings (secret encrypted) and sign-ins under way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from licensewatch.storage.models.base import Base, utcnow


class SsoSettings(Base):
    """The one SSO configuration (row id 1); the service layer encrypts the credential."""

    __tablename__ = "sso_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    tenant_id: Mapped[str] = mapped_column(String(255))  # GUID, domain, or "organizations"
    client_id: Mapped[str] = mapped_column(String(36))
    credential_kind: Mapped[str] = mapped_column(String(20))  # a CredentialKind value
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    authority_host: Mapped[str | None] = mapped_column(String(400))
    graph_endpoint: Mapped[str | None] = mapped_column(String(400))
    ca_bundle: Mapped[str | None] = mapped_column(Text)
    admin_groups: Mapped[list[Any]] = mapped_column(JSON, default=list)
    viewer_groups: Mapped[list[Any]] = mapped_column(JSON, default=list)
    allowed_tenants: Mapped[list[Any]] = mapped_column(JSON, default=list)  # multi-tenant mode
    # Viewers in one of these groups see only its tenants: {group object id: [tenant names]}.
    scope_groups: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    local_sign_in: Mapped[str] = mapped_column(String(10), default="all")  # all | admins
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SsoPending(Base):
    """A sign-in sent to Entra: the browser's cookie hash -> the encrypted MSAL flow (PKCE).

    Entra posts its answer cross-site, without the browser's cookies; it is kept here (by the
    hash of its `state`) until the browser comes back with its cookie to finish.
    """

    __tablename__ = "sso_pending"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    flow: Mapped[bytes] = mapped_column(LargeBinary)
    answer: Mapped[bytes | None] = mapped_column(LargeBinary)
    next_url: Mapped[str] = mapped_column(String(2000), default="/")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
