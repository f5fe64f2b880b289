"""Entra ID single sign-on (settings, pending sign-ins, SSO accounts), tenant scopes, audit log."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sso_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("credential_kind", sa.String(length=20), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("authority_host", sa.String(length=400), nullable=True),
        sa.Column("graph_endpoint", sa.String(length=400), nullable=True),
        sa.Column("ca_bundle", sa.Text(), nullable=True),
        sa.Column("admin_groups", sa.JSON(), nullable=False),
        sa.Column("viewer_groups", sa.JSON(), nullable=False),
        sa.Column("allowed_tenants", sa.JSON(), nullable=False),
        sa.Column("scope_groups", sa.JSON(), nullable=False),
        sa.Column("local_sign_in", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_settings")),
    )
    op.create_table(
        "sso_pending",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("flow", sa.LargeBinary(), nullable=False),
        sa.Column("answer", sa.LargeBinary(), nullable=True),
        sa.Column("next_url", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_sso_pending")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_sso_pending_state_hash")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=400), nullable=True),
        sa.Column("address", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"], unique=False)
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("source", sa.String(length=10), nullable=False, server_default="local")
        )
        batch.add_column(sa.Column("external_id", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("tenant_scope", sa.JSON(), nullable=True))
        batch.create_unique_constraint(op.f("uq_accounts_external_id"), ["external_id"])


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint(op.f("uq_accounts_external_id"), type_="unique")
        batch.drop_column("tenant_scope")
        batch.drop_column("external_id")
        batch.drop_column("source")
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_table("sso_pending")
    op.drop_table("sso_settings")
