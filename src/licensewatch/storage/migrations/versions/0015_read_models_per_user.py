"""Read models updated per user at a delta: finding rows by key, and the costs' holder counts."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rules about users are read in key (userPrincipalName) order and a delta replaces the rows
    # of the users it changed by key (decision 0009): both seek this index.
    op.create_index(
        "ix_finding_rows_tenant_id_rule_key", "finding_rows", ["tenant_id", "rule", "key"]
    )
    # Users per (breakdown attribute, value, product): the breakdowns follow a delta's users.
    op.create_table(
        "cost_holders",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("attribute", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("holders", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_cost_holders_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "attribute", "label", "sku_id", name=op.f("pk_cost_holders")
        ),
    )


def downgrade() -> None:
    op.drop_table("cost_holders")
    op.drop_index("ix_finding_rows_tenant_id_rule_key", table_name="finding_rows")
