"""One UPN index per dataset: the users list walks lower(user_principal_name), like the search."""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The list and the search read the same (dataset_id, lower(upn)) index of migration 0005;
    # the plain one only cost the sync's writes (a fifth B-tree on SQLite's publish).
    op.drop_index("ix_users_dataset_id_user_principal_name", table_name="users")


def downgrade() -> None:
    op.create_index(
        "ix_users_dataset_id_user_principal_name",
        "users",
        ["dataset_id", "user_principal_name"],
    )
