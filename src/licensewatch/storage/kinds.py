"""Enumerations stored as strings (sync status, credential kind), importable without SQLAlchemy."""

from __future__ import annotations

from enum import StrEnum


class SyncStatus(StrEnum):
    """Life cycle of a sync run."""

    NEW = "NEW"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class CredentialKind(StrEnum):
    """How a tenant's app authenticates."""

    SECRET = "secret"  # noqa: S105 - a kind name, not a secret
    CERTIFICATE = "certificate"
