"""Tables for a tenant's SKUs, plans, subscriptions, licensed groups, users and user licences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from licensewatch.storage.models.base import Base

GUID = String(36)


def _tenant_fk() -> ForeignKey:
    return ForeignKey("tenants.id", ondelete="CASCADE")


def _dataset_fk() -> ForeignKey:
    # A dataset is the full run that wrote it: deleting the run deletes its rows.
    return ForeignKey("sync_runs.id", ondelete="CASCADE")


class Sku(Base):
    """A subscribed SKU with its units and the assignment aggregates computed at commit time."""

    __tablename__ = "skus"

    tenant_id: Mapped[int] = mapped_column(_tenant_fk(), primary_key=True)
    sku_id: Mapped[str] = mapped_column(GUID, primary_key=True)
    sku_part_number: Mapped[str] = mapped_column(String(200))
    applies_to: Mapped[str | None] = mapped_column(String(20))
    capability_status: Mapped[str | None] = mapped_column(String(20))
    enabled: Mapped[int] = mapped_column(Integer, default=0)
    warning: Mapped[int] = mapped_column(Integer, default=0)
    suspended: Mapped[int] = mapped_column(Integer, default=0)
    locked_out: Mapped[int] = mapped_column(Integer, default=0)
    consumed: Mapped[int] = mapped_column(Integer, default=0)
    subscription_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    direct_assigned: Mapped[int] = mapped_column(Integer, default=0)
    group_assigned: Mapped[int] = mapped_column(Integer, default=0)
    assignment_errors: Mapped[int] = mapped_column(Integer, default=0)


class SkuServicePlan(Base):
    """A service plan included in a SKU."""

    __tablename__ = "sku_service_plans"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "sku_id"], ["skus.tenant_id", "skus.sku_id"], ondelete="CASCADE"
        ),
    )

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku_id: Mapped[str] = mapped_column(GUID, primary_key=True)
    service_plan_id: Mapped[str] = mapped_column(GUID, primary_key=True)
    service_plan_name: Mapped[str | None] = mapped_column(String(200))
    provisioning_status: Mapped[str | None] = mapped_column(String(40))
    applies_to: Mapped[str | None] = mapped_column(String(20))
    service_plan_type: Mapped[str | None] = mapped_column(String(80))


class Subscription(Base):
    """A commerce subscription (directory/subscriptions) feeding a SKU's units."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_tenant_id_sku_id", "tenant_id", "sku_id"),)

    tenant_id: Mapped[int] = mapped_column(_tenant_fk(), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    commerce_subscription_id: Mapped[str | None] = mapped_column(String(64))
    sku_id: Mapped[str] = mapped_column(GUID)
    sku_part_number: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str | None] = mapped_column(String(20))
    total_licenses: Mapped[int] = mapped_column(Integer, default=0)
    is_trial: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime | None]
    next_lifecycle_at: Mapped[datetime | None]


class Group(Base):
    """A group that hands out licences (group-based licensing)."""

    __tablename__ = "groups"

    tenant_id: Mapped[int] = mapped_column(_tenant_fk(), primary_key=True)
    id: Mapped[str] = mapped_column(GUID, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(400))
    processing_state: Mapped[str | None] = mapped_column(String(40))


class GroupLicense(Base):
    """A licence a group hands to its members."""

    __tablename__ = "group_licenses"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "group_id"], ["groups.tenant_id", "groups.id"], ondelete="CASCADE"
        ),
    )

    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(GUID, primary_key=True)
    sku_id: Mapped[str] = mapped_column(GUID, primary_key=True)
    disabled_plans: Mapped[str | None] = mapped_column(Text)  # comma-joined plan ids


class User(Base):
    """A user as of one dataset (a full sync's run id); readers follow tenants.dataset_id."""

    __tablename__ = "users"

    dataset_id: Mapped[int] = mapped_column(_dataset_fk(), primary_key=True)
    id: Mapped[str] = mapped_column(GUID, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(_tenant_fk())
    user_principal_name: Mapped[str | None] = mapped_column(String(400))
    display_name: Mapped[str | None] = mapped_column(String(400))
    mail: Mapped[str | None] = mapped_column(String(400))
    account_enabled: Mapped[bool | None] = mapped_column(Boolean)
    user_type: Mapped[str | None] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(200))
    job_title: Mapped[str | None] = mapped_column(String(200))
    company_name: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(200))
    usage_location: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime | None]
    employee_id: Mapped[str | None] = mapped_column(String(100))
    on_premises_sync_enabled: Mapped[bool | None] = mapped_column(Boolean)
    cost_center: Mapped[str | None] = mapped_column(String(200))
    last_sign_in_at: Mapped[datetime | None]
    last_non_interactive_sign_in_at: Mapped[datetime | None]
    last_successful_sign_in_at: Mapped[datetime | None]


# The web app's users list and search: case-insensitive order and prefix ranges (migrations 0005,
# 0016: the only UPN index; a second one on the raw UPN cost every sync's writes).
Index("ix_users_search_upn", User.dataset_id, func.lower(User.user_principal_name))
Index("ix_users_search_name", User.dataset_id, func.lower(User.display_name))
# The list's first run, the users without a UPN by id (migration 0017): a partial index holds
# only them (none, in a real directory), so page 1 seeks it instead of reading every user.
_NO_UPN = User.user_principal_name.is_(None)
Index(
    "ix_users_without_upn", User.dataset_id, User.id, sqlite_where=_NO_UPN, postgresql_where=_NO_UPN
)


class UserLicense(Base):
    """One licenseAssignmentState of a user: direct when assigned_by_group is NULL."""

    __tablename__ = "user_licenses"
    # No database primary key: assigned_by_group is NULL for direct rows; the table is bulk-loaded.
    __table_args__ = (
        Index("ix_user_licenses_dataset_id_sku_id", "dataset_id", "sku_id"),
        # With the state (migration 0017): "holds an assigned licence" (the users list's
        # licensed filter, one probe per user) is answered from the index alone.
        Index("ix_user_licenses_user_state", "dataset_id", "user_id", "state"),
    )

    dataset_id: Mapped[int] = mapped_column(_dataset_fk())
    user_id: Mapped[str] = mapped_column(GUID)
    sku_id: Mapped[str] = mapped_column(GUID)
    assigned_by_group: Mapped[str | None] = mapped_column(GUID)
    state: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(String(60))  # NULL when Graph says "None"
    disabled_plans: Mapped[str | None] = mapped_column(Text)  # comma-joined plan ids

    # A mapper-level key: assigned_by_group is NULL for direct rows, so no table PRIMARY KEY fits.
    # (RUF012: SQLAlchemy reads this class attribute once; it is never mutated.)
    __mapper_args__ = {"primary_key": [dataset_id, user_id, sku_id, assigned_by_group]}  # noqa: RUF012
