"""Recommendations: the digest of the tenant-wide facts they were built on (a delta follows users)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for a model stored before: the next publish builds it in full, then deltas follow.
    with op.batch_alter_table("recommendation_summaries") as batch:
        batch.add_column(sa.Column("facts", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recommendation_summaries") as batch:
        batch.drop_column("facts")
