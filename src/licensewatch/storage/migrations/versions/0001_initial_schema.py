"""Initial schema: tenants, credentials, inventory, users and licences by dataset, runs."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("directory_id", sa.String(length=255), nullable=False),
        sa.Column("resolved_tenant_id", sa.String(length=36), nullable=True),
        sa.Column("organization_name", sa.String(length=400), nullable=True),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("cloud", sa.String(length=40), nullable=False),
        sa.Column("authority_host", sa.String(length=400), nullable=True),
        sa.Column("graph_endpoint", sa.String(length=400), nullable=True),
        sa.Column("ca_bundle", sa.Text(), nullable=True),
        sa.Column("sync_interval_seconds", sa.Integer(), nullable=True),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("delta_link", sa.Text(), nullable=True),
        sa.Column("delta_link_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_full_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sign_in_data", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("name", name=op.f("uq_tenants_name")),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("thumbprint", sa.String(length=128), nullable=True),
        sa.Column("certificate_not_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_credentials_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_credentials_tenant_id")),
    )
    op.create_table(
        "groups",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("display_name", sa.String(length=400), nullable=True),
        sa.Column("processing_state", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_groups_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_groups")),
    )
    op.create_table(
        "skus",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("sku_part_number", sa.String(length=200), nullable=False),
        sa.Column("applies_to", sa.String(length=20), nullable=True),
        sa.Column("capability_status", sa.String(length=20), nullable=True),
        sa.Column("enabled", sa.Integer(), nullable=False),
        sa.Column("warning", sa.Integer(), nullable=False),
        sa.Column("suspended", sa.Integer(), nullable=False),
        sa.Column("locked_out", sa.Integer(), nullable=False),
        sa.Column("consumed", sa.Integer(), nullable=False),
        sa.Column("subscription_ids", sa.JSON(), nullable=False),
        sa.Column("direct_assigned", sa.Integer(), nullable=False),
        sa.Column("group_assigned", sa.Integer(), nullable=False),
        sa.Column("assignment_errors", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_skus_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "sku_id", name=op.f("pk_skus")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("commerce_subscription_id", sa.String(length=64), nullable=True),
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("sku_part_number", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("total_licenses", sa.Integer(), nullable=False),
        sa.Column("is_trial", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_lifecycle_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_subscriptions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_subscriptions")),
    )
    op.create_index(
        "ix_subscriptions_tenant_id_sku_id", "subscriptions", ["tenant_id", "sku_id"], unique=False
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("users_read", sa.Integer(), nullable=False),
        sa.Column("pages_read", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("throttled", sa.Integer(), nullable=False),
        sa.Column("error_kind", sa.String(length=80), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("request_ids", sa.JSON(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sync_runs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_index(
        "ix_sync_runs_tenant_id_started_at", "sync_runs", ["tenant_id", "started_at"], unique=False
    )
    op.create_table(
        "group_licenses",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("disabled_plans", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "group_id"],
            ["groups.tenant_id", "groups.id"],
            name=op.f("fk_group_licenses_tenant_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "group_id", "sku_id", name=op.f("pk_group_licenses")),
    )
    op.create_table(
        "sku_service_plans",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("service_plan_id", sa.String(length=36), nullable=False),
        sa.Column("service_plan_name", sa.String(length=200), nullable=True),
        sa.Column("provisioning_status", sa.String(length=40), nullable=True),
        sa.Column("applies_to", sa.String(length=20), nullable=True),
        sa.Column("service_plan_type", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "sku_id"],
            ["skus.tenant_id", "skus.sku_id"],
            name=op.f("fk_sku_service_plans_tenant_id_skus"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "sku_id", "service_plan_id", name=op.f("pk_sku_service_plans")
        ),
    )
    op.create_table(
        "sku_snapshots",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enabled", sa.Integer(), nullable=False),
        sa.Column("warning", sa.Integer(), nullable=False),
        sa.Column("suspended", sa.Integer(), nullable=False),
        sa.Column("locked_out", sa.Integer(), nullable=False),
        sa.Column("consumed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sync_runs.id"],
            name=op.f("fk_sku_snapshots_run_id_sync_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sku_snapshots_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "sku_id", name=op.f("pk_sku_snapshots")),
    )
    op.create_index(
        "ix_sku_snapshots_tenant_id_sku_id", "sku_snapshots", ["tenant_id", "sku_id"], unique=False
    )
    op.create_table(
        "user_licenses",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("assigned_by_group", sa.String(length=36), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=True),
        sa.Column("error", sa.String(length=60), nullable=True),
        sa.Column("disabled_plans", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["sync_runs.id"],
            name=op.f("fk_user_licenses_dataset_id_sync_runs"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_user_licenses_dataset_id_sku_id",
        "user_licenses",
        ["dataset_id", "sku_id"],
        unique=False,
    )
    op.create_index(
        "ix_user_licenses_dataset_id_user_id",
        "user_licenses",
        ["dataset_id", "user_id"],
        unique=False,
    )
    op.create_table(
        "users",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_principal_name", sa.String(length=400), nullable=True),
        sa.Column("display_name", sa.String(length=400), nullable=True),
        sa.Column("mail", sa.String(length=400), nullable=True),
        sa.Column("account_enabled", sa.Boolean(), nullable=True),
        sa.Column("user_type", sa.String(length=20), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("job_title", sa.String(length=200), nullable=True),
        sa.Column("company_name", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=200), nullable=True),
        sa.Column("usage_location", sa.String(length=10), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("employee_id", sa.String(length=100), nullable=True),
        sa.Column("on_premises_sync_enabled", sa.Boolean(), nullable=True),
        sa.Column("cost_center", sa.String(length=200), nullable=True),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_non_interactive_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_successful_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["sync_runs.id"],
            name=op.f("fk_users_dataset_id_sync_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_users_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "id", name=op.f("pk_users")),
    )
    op.create_index(
        "ix_users_dataset_id_user_principal_name",
        "users",
        ["dataset_id", "user_principal_name"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_users_dataset_id_user_principal_name", table_name="users")
    op.drop_table("users")
    op.drop_index("ix_user_licenses_dataset_id_user_id", table_name="user_licenses")
    op.drop_index("ix_user_licenses_dataset_id_sku_id", table_name="user_licenses")
    op.drop_table("user_licenses")
    op.drop_index("ix_sku_snapshots_tenant_id_sku_id", table_name="sku_snapshots")
    op.drop_table("sku_snapshots")
    op.drop_table("sku_service_plans")
    op.drop_table("group_licenses")
    op.drop_index("ix_sync_runs_tenant_id_started_at", table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_index("ix_subscriptions_tenant_id_sku_id", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_table("skus")
    op.drop_table("groups")
    op.drop_table("credentials")
    op.drop_table("tenants")
