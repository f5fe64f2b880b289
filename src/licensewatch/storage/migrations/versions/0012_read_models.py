"""Read models written at publish: findings per rule with their affected rows, and costs."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _tenant(table: str) -> sa.ForeignKeyConstraint:
    name = op.f(f"fk_{table}_tenant_id_tenants")
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=name, ondelete="CASCADE")


def _stamp() -> list[sa.Column[object]]:
    return [
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("build_ms", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "finding_summaries",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        *_stamp(),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("fix", sa.Text(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Text(), nullable=True),
        sa.Column("unavailable", sa.Text(), nullable=True),
        _tenant("finding_summaries"),
        sa.PrimaryKeyConstraint("tenant_id", "rule", name=op.f("pk_finding_summaries")),
    )
    op.create_table(
        "finding_rows",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("products", sa.Text(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.Text(), nullable=False),
        _tenant("finding_rows"),
        sa.PrimaryKeyConstraint("tenant_id", "rule", "position", name=op.f("pk_finding_rows")),
    )
    op.create_table(
        "cost_summaries",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        *_stamp(),
        sa.Column("purchased", sa.Text(), nullable=False),
        sa.Column("assigned", sa.Text(), nullable=False),
        sa.Column("unassigned", sa.Text(), nullable=False),
        _tenant("cost_summaries"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_cost_summaries")),
    )
    op.create_table(
        "cost_lines",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("purchased", sa.BigInteger(), nullable=False),
        sa.Column("assigned", sa.BigInteger(), nullable=False),
        sa.Column("unassigned", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.Text(), nullable=True),
        sa.Column("costs", sa.Text(), nullable=False),
        _tenant("cost_lines"),
        sa.PrimaryKeyConstraint("tenant_id", "section", "position", name=op.f("pk_cost_lines")),
    )


def downgrade() -> None:
    for table in ("cost_lines", "cost_summaries", "finding_rows", "finding_summaries"):
        op.drop_table(table)
