"""Each product's holders in list order, stored at publish: a holders page reads one index range."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty until a tenant's next publish: until then its holders pages walk the users as before.
    op.create_table(
        "product_holders",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["sync_runs.id"],
            name=op.f("fk_product_holders_dataset_id_sync_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "dataset_id", "sku_id", "run", "key", "user_id", name=op.f("pk_product_holders")
        ),
    )
    # A delta replaces the rows of the users it changed: found by user, not by the list's key.
    op.create_index(
        "ix_product_holders_dataset_id_user_id", "product_holders", ["dataset_id", "user_id"]
    )
    op.create_table(
        "product_holder_builds",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("data_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_product_holder_builds_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_product_holder_builds")),
    )


def downgrade() -> None:
    op.drop_table("product_holder_builds")
    op.drop_index("ix_product_holders_dataset_id_user_id", table_name="product_holders")
    op.drop_table("product_holders")
