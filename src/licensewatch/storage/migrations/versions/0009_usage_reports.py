"""Usage reports: each tenant's last collection, per-user activity, recommendation exclusions."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _dated(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Date(), nullable=True)


def upgrade() -> None:
    op.create_table(
        "usage_collections",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=5), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("concealed", sa.Boolean(), nullable=True),
        sa.Column("settings_readable", sa.Boolean(), nullable=True),
        _dated("active_refresh_date"),
        _dated("apps_refresh_date"),
        _dated("mailbox_refresh_date"),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_usage_collections_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_usage_collections")),
    )
    op.create_table(
        "user_usage",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_principal_name", sa.String(length=400), nullable=False),
        sa.Column("display_name", sa.String(length=400), nullable=True),
        sa.Column("is_deleted", sa.Boolean(), nullable=False),
        _dated("report_refresh_date"),
        _dated("exchange_last"),
        _dated("onedrive_last"),
        _dated("sharepoint_last"),
        _dated("skype_last"),
        _dated("yammer_last"),
        _dated("teams_last"),
        sa.Column("apps_seen", sa.Boolean(), nullable=False),
        _dated("apps_last"),
        sa.Column("windows", sa.Boolean(), nullable=False),
        sa.Column("mac", sa.Boolean(), nullable=False),
        sa.Column("mobile", sa.Boolean(), nullable=False),
        sa.Column("web", sa.Boolean(), nullable=False),
        sa.Column("apps_used", sa.String(length=200), nullable=True),
        sa.Column("mailbox_seen", sa.Boolean(), nullable=False),
        _dated("mailbox_last"),
        sa.Column("storage_used_bytes", sa.BigInteger(), nullable=True),
        sa.Column("prohibit_send_receive_quota_bytes", sa.BigInteger(), nullable=True),
        sa.Column("item_count", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_user_usage_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "user_principal_name", name=op.f("pk_user_usage")),
    )
    op.create_table(
        "recommendation_exclusions",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("label", sa.String(length=400), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_recommendation_exclusions")),
    )


def downgrade() -> None:
    op.drop_table("recommendation_exclusions")
    op.drop_table("user_usage")
    op.drop_table("usage_collections")
