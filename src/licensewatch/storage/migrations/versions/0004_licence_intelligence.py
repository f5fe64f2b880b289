"""Licence intelligence: product names, prices, exclusions, alerts and report schedules."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_destinations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_destinations")),
        sa.UniqueConstraint("name", name=op.f("uq_alert_destinations_name")),
    )
    op.create_table(
        "catalog_products",
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("part_number", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku_id", name=op.f("pk_catalog_products")),
    )
    op.create_table(
        "catalog_service_plans",
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("friendly_name", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_catalog_service_plans")),
    )
    op.create_table(
        "intelligence_settings",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_intelligence_settings")),
    )
    op.create_table(
        "product_exclusions",
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("part_number", sa.String(length=200), nullable=True),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku_id", name=op.f("pk_product_exclusions")),
    )
    op.create_table(
        "product_name_overrides",
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("part_number", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku_id", name=op.f("pk_product_name_overrides")),
    )
    op.create_table(
        "product_prices",
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("part_number", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("term", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku_id", name=op.f("pk_product_prices")),
    )
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("sku_id", sa.String(length=36), nullable=True),
        sa.Column("threshold", sa.Double(), nullable=True),
        sa.Column("percent", sa.Boolean(), nullable=False),
        sa.Column("destination_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["destination_id"],
            ["alert_destinations.id"],
            name=op.f("fk_alert_rules_destination_id_alert_destinations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_alert_rules_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
    )
    op.create_table(
        "report_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("destination_id", sa.Integer(), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["destination_id"],
            ["alert_destinations.id"],
            name=op.f("fk_report_schedules_destination_id_alert_destinations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_report_schedules_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_schedules")),
    )
    op.create_table(
        "alert_conditions",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name=op.f("fk_alert_conditions_rule_id_alert_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_alert_conditions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "rule_id", "tenant_id", "subject", name=op.f("pk_alert_conditions")
        ),
    )
    op.create_table(
        "alert_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("destination", sa.String(length=100), nullable=False),
        sa.Column("event", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name=op.f("fk_alert_log_rule_id_alert_rules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_alert_log_tenant_id_tenants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_log")),
    )
    op.create_index("ix_alert_log_sent_at", "alert_log", ["sent_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_alert_log_sent_at", table_name="alert_log")
    op.drop_table("alert_log")
    op.drop_table("alert_conditions")
    op.drop_table("report_schedules")
    op.drop_table("alert_rules")
    op.drop_table("product_prices")
    op.drop_table("product_name_overrides")
    op.drop_table("product_exclusions")
    op.drop_table("intelligence_settings")
    op.drop_table("catalog_service_plans")
    op.drop_table("catalog_products")
    op.drop_table("alert_destinations")
