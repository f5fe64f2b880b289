"""The renewal plan's growth sums per product and day, kept at publish; snapshots by time."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "renewal_growth_days",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sum_x", sa.Float(), nullable=False),
        sa.Column("sum_y", sa.Float(), nullable=False),
        sa.Column("sum_xx", sa.Float(), nullable=False),
        sa.Column("sum_xy", sa.Float(), nullable=False),
        sa.Column("min_x", sa.Float(), nullable=False),
        sa.Column("max_x", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_renewal_growth_days_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "sku_id", "day", name=op.f("pk_renewal_growth_days")),
    )
    # No rows yet: until a tenant's next publish writes them, readers aggregate the snapshots.
    op.create_table(
        "renewal_growth_builds",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("newest_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_renewal_growth_builds_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_renewal_growth_builds")),
    )
    op.create_index(
        "ix_sku_snapshots_tenant_id_captured_at", "sku_snapshots", ["tenant_id", "captured_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_sku_snapshots_tenant_id_captured_at", table_name="sku_snapshots")
    op.drop_table("renewal_growth_builds")
    op.drop_table("renewal_growth_days")
