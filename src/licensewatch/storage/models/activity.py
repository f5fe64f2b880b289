"""Tables for the daemon's per-tenant schedule and lease, and the licence change history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from licensewatch.storage.models.base import Base


class ChangeKind(StrEnum):
    """What changed for a user or a product between two runs."""

    LICENCE_ADDED = "licence_added"
    LICENCE_REMOVED = "licence_removed"
    ACCOUNT_ENABLED = "account_enabled"
    ACCOUNT_DISABLED = "account_disabled"
    USER_CREATED = "user_created"
    USER_DELETED = "user_deleted"  # permanently deleted (or gone from a full read)
    # Deleted but restorable for 30 days (delta's `@removed` reason "changed").
    USER_SOFT_DELETED = "user_soft_deleted"
    USER_RESTORED = "user_restored"  # back from deleted items (soft-deleted in the last 30 days)
    UNITS_CHANGED = "units_changed"
    # An assignment moved between states without being gained or lost (e.g. a group licence that
    # appeared in Error with CountViolation, or Active → ActiveWithError); detail: from, to, error.
    ASSIGNMENT_STATE_CHANGED = "assignment_state_changed"


class TenantSchedule(Base):
    """When a tenant syncs next, how often it failed in a row, and which worker holds it now."""

    __tablename__ = "tenant_schedules"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    next_sync_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    # A lease, not a lock: a worker that dies lets it expire, and another takes the tenant over.
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]


class LicenceChange(Base):
    """One change seen by a sync run: a licence gained or lost, an account state, a unit count."""

    __tablename__ = "licence_changes"
    __table_args__ = (
        Index("ix_licence_changes_tenant_id_occurred_at", "tenant_id", "occurred_at"),
        Index("ix_licence_changes_tenant_id_upn", "tenant_id", "user_principal_name"),
        # A user's and a product's newest changes (their pages): migration 0009.
        Index("ix_licence_changes_tenant_id_user_id", "tenant_id", "user_id", "occurred_at"),
        Index("ix_licence_changes_tenant_id_sku_id", "tenant_id", "sku_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(30))  # a ChangeKind value
    user_id: Mapped[str | None] = mapped_column(String(36))
    user_principal_name: Mapped[str | None] = mapped_column(String(400))
    sku_id: Mapped[str | None] = mapped_column(String(36))
    # Direct assignment when NULL; the group's id when inherited.
    assigned_by_group: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
