"""Tables for configured tenants and their (encrypted, opaque) app credentials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from licensewatch.storage.kinds import CredentialKind as CredentialKind
from licensewatch.storage.models.base import Base, utcnow


class Tenant(Base):
    """A Microsoft 365 tenant licensewatch collects from."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    directory_id: Mapped[str] = mapped_column(String(255))  # GUID or domain, as entered
    resolved_tenant_id: Mapped[str | None] = mapped_column(String(36))  # the token's tid
    organization_name: Mapped[str | None] = mapped_column(String(400))
    client_id: Mapped[str] = mapped_column(String(36))
    cloud: Mapped[str] = mapped_column(String(40), default="global")
    authority_host: Mapped[str | None] = mapped_column(String(400))
    graph_endpoint: Mapped[str | None] = mapped_column(String(400))  # NULL: the cloud's default
    ca_bundle: Mapped[str | None] = mapped_column(Text)
    sync_interval_seconds: Mapped[int | None] = mapped_column(Integer)
    # The sync_runs.id whose user rows are current. No FK: sync_runs already points here (no cycle).
    dataset_id: Mapped[int | None] = mapped_column(Integer)
    # count(*) of that dataset's users, kept by the syncs in the transaction that writes them
    # (full: with the pointer flip; delta: with its user rows): status reads it, never counts.
    user_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    delta_link: Mapped[str | None] = mapped_column(Text)
    delta_link_at: Mapped[datetime | None]
    last_full_sync_at: Mapped[datetime | None]
    sign_in_data: Mapped[bool | None] = mapped_column(Boolean)
    # Opt-in: change plans may write licences (LicenseAssignment.ReadWrite.All); off by default.
    allow_writes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Four-eyes: a plan must be approved by an admin other than the one who created it.
    four_eyes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    credential: Mapped[Credential | None] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", passive_deletes=True
    )


class Credential(Base):
    """A tenant's app credential; the service layer encrypts, storage keeps the bytes."""

    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # a CredentialKind value
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    thumbprint: Mapped[str | None] = mapped_column(String(128))
    certificate_not_after: Mapped[datetime | None]
    secret_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    tenant: Mapped[Tenant] = relationship(back_populates="credential")
