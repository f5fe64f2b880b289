"""API token revocation (`revoked_at`) and the shared sign-in throttle's attempts table."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing tokens keep their expiry (most have none): only new tokens get the 90-day default.
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_key", sa.String(length=150), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    op.create_index("ix_sign_in_attempts_at", "sign_in_attempts", ["at"])
    op.create_index("ix_sign_in_attempts_account_key_at", "sign_in_attempts", ["account_key", "at"])
    op.create_index("ix_sign_in_attempts_source_at", "sign_in_attempts", ["source", "at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_attempts_source_at", table_name="sign_in_attempts")
    op.drop_index("ix_sign_in_attempts_account_key_at", table_name="sign_in_attempts")
    op.drop_index("ix_sign_in_attempts_at", table_name="sign_in_attempts")
    op.drop_table("sign_in_attempts")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("revoked_at")
