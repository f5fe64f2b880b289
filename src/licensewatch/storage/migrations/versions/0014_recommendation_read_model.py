"""Recommendations read model: a summary per tenant and one row per recommendation (keyset)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _tenant(table: str) -> sa.ForeignKeyConstraint:
    name = op.f(f"fk_{table}_tenant_id_tenants")
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=name, ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "recommendation_summaries",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("build_ms", sa.Integer(), nullable=False),
        sa.Column("usage_as_of", sa.Date(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.Column("totals", sa.Text(), nullable=False),
        sa.Column("seats", sa.Text(), nullable=False),
        _tenant("recommendation_summaries"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_recommendation_summaries")),
    )
    op.create_table(
        "recommendation_rows",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rank", sa.BigInteger(), nullable=False),
        sa.Column("user_principal_name", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("confidence", sa.String(length=10), nullable=False),
        sa.Column("sku_id", sa.String(length=64), nullable=False),
        sa.Column("sku_part_number", sa.Text(), nullable=False),
        sa.Column("product_name", sa.Text(), nullable=False),
        sa.Column("target_sku_id", sa.String(length=64), nullable=True),
        sa.Column("target_sku_part_number", sa.Text(), nullable=True),
        sa.Column("target_product_name", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("monthly_saving", sa.String(length=40), nullable=True),
        sa.Column("yearly_saving", sa.String(length=40), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        _tenant("recommendation_rows"),
        sa.PrimaryKeyConstraint("tenant_id", "position", name=op.f("pk_recommendation_rows")),
    )
    # Pages over every tenant read the rows most money first, then tenant and position.
    op.create_index(
        "ix_recommendation_rows_rank",
        "recommendation_rows",
        ["rank", "tenant_id", "position"],
    )


def downgrade() -> None:
    op.drop_index("ix_recommendation_rows_rank", table_name="recommendation_rows")
    op.drop_table("recommendation_rows")
    op.drop_table("recommendation_summaries")
