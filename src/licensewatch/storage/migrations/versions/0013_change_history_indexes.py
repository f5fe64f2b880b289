"""Indexes for one user's and one product's change history (the user and product pages)."""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Without them, the newest 20 changes of a user who changed rarely meant reading the
    # tenant's whole history newest-first until 20 were found.
    op.create_index(
        "ix_licence_changes_tenant_id_user_id",
        "licence_changes",
        ["tenant_id", "user_id", "occurred_at"],
    )
    op.create_index(
        "ix_licence_changes_tenant_id_sku_id",
        "licence_changes",
        ["tenant_id", "sku_id", "occurred_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_licence_changes_tenant_id_sku_id", table_name="licence_changes")
    op.drop_index("ix_licence_changes_tenant_id_user_id", table_name="licence_changes")
