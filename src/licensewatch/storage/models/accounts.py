"""Tables for the web app's local accounts, sessions, personal API tokens and sign-in attempts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from licensewatch.storage.models.base import Base, utcnow


class Role(StrEnum):
    """What an account may do: admins manage tenants, credentials and accounts; viewers read."""

    ADMIN = "admin"
    VIEWER = "viewer"


class Account(Base):
    """A user of the web app: local (argon2 password hash, never the password) or from SSO."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10), default=Role.VIEWER)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # "local" (password) or "sso" (Entra ID: no usable password; role set at every sign-in).
    source: Mapped[str] = mapped_column(String(10), default="local")
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)  # "tid:oid"
    # The tenants (by name) a viewer may see; NULL: every tenant. Admins always see all.
    tenant_scope: Mapped[list[Any] | None] = mapped_column(JSON)


class WebSession(Base):
    """A signed-in browser; only the SHA-256 of the cookie value is stored."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_account_id", "account_id"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    csrf_secret: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    """A personal REST API token; only its SHA-256 is stored, the value is shown once."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_account_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SignInAttempt(Base):
    """A password check the sign-in throttle counts until it leaves the window or succeeds.

    Kept in the database (not in a process) so that several `serve` processes share one limit.
    """

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_at", "at"),
        Index("ix_sign_in_attempts_account_key_at", "account_key", "at"),
        Index("ix_sign_in_attempts_source_at", "source", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    account_key: Mapped[str] = mapped_column(String(150))  # the username as typed, lower-cased
    source: Mapped[str] = mapped_column(String(64))  # client address (IPv6: its /64 network)
