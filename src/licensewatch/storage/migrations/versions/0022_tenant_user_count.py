"""Each tenant's number of current users, stored by the syncs: `status` reads it, never counts."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# Counted once here from the data (0 for a tenant never synced: no dataset, no users); from
# now on the syncs keep it in the transactions that write the users.
BACKFILL = (
    "UPDATE tenants SET user_count = (SELECT count(*) FROM users"
    " WHERE users.dataset_id = tenants.dataset_id AND users.tenant_id = tenants.id)"
)


def upgrade() -> None:
    # Plain ALTER TABLE on both engines, not a batch: a SQLite batch copies `tenants` and drops
    # the original, and with foreign keys on that drop cascades to everything a tenant owns.
    op.add_column(
        "tenants", sa.Column("user_count", sa.Integer(), nullable=False, server_default="0")
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_column("tenants", "user_count")  # SQLite ≥ 3.35 drops a column in place
