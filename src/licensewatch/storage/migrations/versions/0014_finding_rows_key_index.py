"""An index on each finding row's key: user rules are paged by key and updated per user."""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rules about users are read in key (userPrincipalName) order and a delta replaces the rows
    # of the users it changed by key (decision 0009): both seek this index.
    op.create_index(
        "ix_finding_rows_tenant_id_rule_key", "finding_rows", ["tenant_id", "rule", "key"]
    )


def downgrade() -> None:
    op.drop_index("ix_finding_rows_tenant_id_rule_key", table_name="finding_rows")
