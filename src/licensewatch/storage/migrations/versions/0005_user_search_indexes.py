"""Case-insensitive prefix search of users: indexes on lower(user_principal_name/display_name)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Expression indexes: SQLite (3.9+) and PostgreSQL maintain them on insert, so the sync's
    # writers need no change; the web app's search reads them as range scans.
    op.create_index(
        "ix_users_search_upn",
        "users",
        ["dataset_id", sa.text("lower(user_principal_name)")],
    )
    op.create_index(
        "ix_users_search_name",
        "users",
        ["dataset_id", sa.text("lower(display_name)")],
    )


def downgrade() -> None:
    op.drop_index("ix_users_search_name", table_name="users")
    op.drop_index("ix_users_search_upn", table_name="users")
