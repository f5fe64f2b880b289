"""The users list's indexes: users without a UPN (partial), and licences by user with state."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_NO_UPN = sa.text("user_principal_name IS NULL")


def upgrade() -> None:
    # Without it the list's first page read the whole dataset by primary key looking for users
    # without a UPN (≈ 100 ms at 300k users on SQLite). It holds only those users: no write cost.
    op.create_index(
        "ix_users_without_upn",
        "users",
        ["dataset_id", "id"],
        sqlite_where=_NO_UPN,
        postgresql_where=_NO_UPN,
    )
    # The licensed filter probes each user for an assignment in an assigned state: with the
    # state in the index the probe never reads the table. It replaces (dataset_id, user_id),
    # whose every lookup it serves, so a sync still writes the same number of B-trees.
    op.create_index(
        "ix_user_licenses_user_state", "user_licenses", ["dataset_id", "user_id", "state"]
    )
    op.drop_index("ix_user_licenses_dataset_id_user_id", table_name="user_licenses")


def downgrade() -> None:
    op.create_index(
        "ix_user_licenses_dataset_id_user_id", "user_licenses", ["dataset_id", "user_id"]
    )
    op.drop_index("ix_user_licenses_user_state", table_name="user_licenses")
    op.drop_index("ix_users_without_upn", table_name="users")
