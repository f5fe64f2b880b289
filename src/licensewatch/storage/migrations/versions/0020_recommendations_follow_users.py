"""Recommendations follow a delta's users: the tenant-wide facts' digest, an order key per row."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for a model stored before: the next publish builds it in full, then deltas follow.
    with op.batch_alter_table("recommendation_summaries") as batch:
        batch.add_column(sa.Column("facts", sa.String(length=64), nullable=True))
    with op.batch_alter_table("recommendation_rows") as batch:
        batch.add_column(sa.Column("sort_key", sa.LargeBinary(), nullable=True))
    # A delta finds each new row's neighbours in the tenant's order here (bytes compare alike
    # on both engines, whatever the database's collation).
    op.create_index(
        "ix_recommendation_rows_order", "recommendation_rows", ["tenant_id", "sort_key"]
    )
    # ... and the changed users' old rows, by name (else a scan of every row of the tenant).
    op.create_index(
        "ix_recommendation_rows_user", "recommendation_rows", ["tenant_id", "user_principal_name"]
    )


def downgrade() -> None:
    op.drop_index("ix_recommendation_rows_user", table_name="recommendation_rows")
    op.drop_index("ix_recommendation_rows_order", table_name="recommendation_rows")
    with op.batch_alter_table("recommendation_rows") as batch:
        batch.drop_column("sort_key")
    with op.batch_alter_table("recommendation_summaries") as batch:
        batch.drop_column("facts")
