"""The users holding no licence, in list order, stored at publish: `licensed=no` reads a range."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unlicensed_users",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["sync_runs.id"],
            name=op.f("fk_unlicensed_users_dataset_id_sync_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "dataset_id", "run", "key", "user_id", name=op.f("pk_unlicensed_users")
        ),
    )
    # A delta replaces the rows of the users it changed: found by user, not by the list's key.
    op.create_index(
        "ix_unlicensed_users_dataset_id_user_id", "unlicensed_users", ["dataset_id", "user_id"]
    )
    # One marker says what both stored lists describe: a build written before this table was
    # would vouch for an empty list. Until each tenant's next publish, readers walk the users.
    op.execute("DELETE FROM product_holder_builds")


def downgrade() -> None:
    op.drop_index("ix_unlicensed_users_dataset_id_user_id", table_name="unlicensed_users")
    op.drop_table("unlicensed_users")
