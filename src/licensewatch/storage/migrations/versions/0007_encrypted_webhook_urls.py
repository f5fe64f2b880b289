"""Webhook URLs are secrets: encrypted; only `scheme://host/…` stays in clear (alert log too)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from licensewatch.security.crypto import load_keyring
from licensewatch.security.redaction import redact_url

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_destinations = sa.table(
    "alert_destinations",
    sa.column("id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("target", sa.Text()),
    sa.column("target_ciphertext", sa.LargeBinary()),
)

_log = sa.table("alert_log", sa.column("error", sa.Text()))


def _stored_ciphertexts(connection: sa.Connection) -> int:
    # Plain SQL on purpose: a migration must not depend on how the models look later.
    return int(
        connection.scalar(
            sa.text(
                "SELECT (SELECT count(*) FROM credentials)"
                " + (SELECT count(*) FROM alert_destinations WHERE secret_ciphertext IS NOT NULL)"
            )
        )
        or 0
    )


def upgrade() -> None:
    op.add_column(
        "alert_destinations", sa.Column("target_ciphertext", sa.LargeBinary(), nullable=True)
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_destinations.c.id, _destinations.c.target).where(
            _destinations.c.kind == "webhook", _destinations.c.target_ciphertext.is_(None)
        )
    ).all()
    if not rows:
        return  # no key needed (nor created) for a database without webhooks
    # The key that already protects this database (an error, not a new key, if it is missing).
    ring = load_keyring(in_use=lambda: _stored_ciphertexts(connection))
    for row_id, url in rows:
        connection.execute(
            sa.update(_destinations)
            .where(_destinations.c.id == row_id)
            .values(target=redact_url(url), target_ciphertext=ring.encrypt(url.encode()))
        )
        # Failed deliveries logged the full URL in their error text: keep only the host there.
        connection.execute(
            sa.update(_log)
            .where(_log.c.error.contains(url, autoescape=True))
            .values(error=sa.func.replace(_log.c.error, url, redact_url(url)))
        )


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_destinations.c.id, _destinations.c.target_ciphertext).where(
            _destinations.c.target_ciphertext.isnot(None)
        )
    ).all()
    if rows:
        ring = load_keyring(create=False)
        for row_id, ciphertext in rows:
            connection.execute(
                sa.update(_destinations)
                .where(_destinations.c.id == row_id)
                .values(target=ring.decrypt(bytes(ciphertext)).decode())
            )
    with op.batch_alter_table("alert_destinations") as batch:
        batch.drop_column("target_ciphertext")
