"""Daemon schedule and lease per tenant, and the licence change history."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_schedules",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("next_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_schedules_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_schedules")),
    )
    op.create_table(
        "licence_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("user_principal_name", sa.String(length=400), nullable=True),
        sa.Column("sku_id", sa.String(length=36), nullable=True),
        sa.Column("assigned_by_group", sa.String(length=36), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sync_runs.id"],
            name=op.f("fk_licence_changes_run_id_sync_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_licence_changes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_changes")),
    )
    op.create_index(
        "ix_licence_changes_tenant_id_occurred_at", "licence_changes", ["tenant_id", "occurred_at"]
    )
    op.create_index(
        "ix_licence_changes_tenant_id_upn", "licence_changes", ["tenant_id", "user_principal_name"]
    )


def downgrade() -> None:
    op.drop_index("ix_licence_changes_tenant_id_upn", table_name="licence_changes")
    op.drop_index("ix_licence_changes_tenant_id_occurred_at", table_name="licence_changes")
    op.drop_table("licence_changes")
    op.drop_table("tenant_schedules")
