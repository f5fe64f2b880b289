"""Change plans and their lines; per-tenant opt-in to licence writes and the four-eyes rule."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(
            sa.Column("allow_writes", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("four_eyes", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "change_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("reverses_plan_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=400), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_by", sa.String(length=400), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("apply_owner", sa.String(length=200), nullable=True),
        sa.Column("apply_heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_change_plans_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_plans")),
    )
    op.create_index("ix_change_plans_tenant_id", "change_plans", ["tenant_id"], unique=False)
    op.create_table(
        "change_plan_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("user_principal_name", sa.String(length=400), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("target_sku_id", sa.String(length=36), nullable=True),
        sa.Column("add_disabled_plans", sa.Text(), nullable=True),
        sa.Column("prior_disabled_plans", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("monthly_saving", sa.String(length=32), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("error_code", sa.String(length=100), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reverses_line_id", sa.Integer(), nullable=True),
        sa.Column("undone_by_plan_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["change_plans.id"],
            name=op.f("fk_change_plan_lines_plan_id_change_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_plan_lines")),
    )
    op.create_index("ix_change_plan_lines_plan_id", "change_plan_lines", ["plan_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_change_plan_lines_plan_id", table_name="change_plan_lines")
    op.drop_table("change_plan_lines")
    op.drop_index("ix_change_plans_tenant_id", table_name="change_plans")
    op.drop_table("change_plans")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("four_eyes")
        batch.drop_column("allow_writes")
