"""Usage-report rows staged while the reports stream in, merged into user_usage at the end."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_staging",
        sa.Column("attempt", sa.String(length=40), nullable=False),
        sa.Column("report", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_key", sa.String(length=400), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), nullable=False),
        sa.Column("display_name", sa.String(length=400), nullable=True),
        sa.Column("report_refresh_date", sa.Date(), nullable=True),
        *(
            sa.Column(f"{name}_last", sa.Date(), nullable=True)
            for name in ("exchange", "onedrive", "sharepoint", "skype", "yammer", "teams", "apps")
        ),
        *(
            sa.Column(flag, sa.Boolean(), nullable=True)
            for flag in ("windows", "mac", "mobile", "web")
        ),
        sa.Column("apps_used", sa.String(length=200), nullable=True),
        sa.Column("mailbox_last", sa.Date(), nullable=True),
        sa.Column("storage_used_bytes", sa.BigInteger(), nullable=True),
        sa.Column("prohibit_send_receive_quota_bytes", sa.BigInteger(), nullable=True),
        sa.Column("item_count", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_usage_staging_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attempt", "report", "seq", name=op.f("pk_usage_staging")),
    )


def downgrade() -> None:
    op.drop_table("usage_staging")
