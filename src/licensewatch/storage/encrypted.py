"""The registry of encrypted columns: counted before a key is created, re-encrypted on rotation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Column, Connection, Engine, Table, func, select, update

from licensewatch.security.crypto import Keyring, load_keyring
from licensewatch.settings import Settings
from licensewatch.storage.models.intelligence import AlertDestination
from licensewatch.storage.models.sso import SsoPending, SsoSettings
from licensewatch.storage.models.tenants import Credential


@dataclass(frozen=True)
class EncryptedColumn:
    """A column holding Fernet ciphertext (`value`), its table's primary key, and what it holds."""

    table: Table
    value_name: str
    what: str
    key_name: str = "id"

    @property
    def key(self) -> Column[Any]:
        return self.table.c[self.key_name]

    @property
    def value(self) -> Column[Any]:
        return self.table.c[self.value_name]

    @property
    def label(self) -> str:
        return f"{self.table.name}.{self.value_name}"


_CREDENTIALS = cast(Table, Credential.__table__)
_DESTINATIONS = cast(Table, AlertDestination.__table__)
_SSO = cast(Table, SsoSettings.__table__)
_SSO_PENDING = cast(Table, SsoPending.__table__)

# Every column written through `Keyring.encrypt`. tests/storage/test_encrypted_registry.py fails
# when a model or migration adds a binary or secret-named column that is missing here.
ENCRYPTED_COLUMNS: tuple[EncryptedColumn, ...] = (
    EncryptedColumn(_CREDENTIALS, "ciphertext", "tenant credentials"),
    EncryptedColumn(
        _DESTINATIONS,
        "secret_ciphertext",
        "alert destination secrets (webhook signing keys, SMTP passwords)",
    ),
    EncryptedColumn(_DESTINATIONS, "target_ciphertext", "webhook URLs"),
    EncryptedColumn(_SSO, "ciphertext", "the SSO web app's client secret or certificate key"),
    EncryptedColumn(_SSO_PENDING, "flow", "sign-ins under way (PKCE verifier, nonce)", "id_hash"),
    EncryptedColumn(
        _SSO_PENDING, "answer", "Entra's answers to them (authorization codes)", "id_hash"
    ),
)


def encrypted_counts(connection: Connection) -> dict[str, int]:
    """How many values each encrypted column stores (NULLs are not values)."""
    return {
        column.label: int(
            connection.scalar(
                select(func.count()).select_from(column.table).where(column.value.isnot(None))
            )
            or 0
        )
        for column in ENCRYPTED_COLUMNS
    }


def encrypted_value_count(bind: Engine | Connection) -> int:
    if isinstance(bind, Connection):
        return sum(encrypted_counts(bind).values())
    with bind.connect() as connection:
        return sum(encrypted_counts(connection).values())


def reencrypt_all(connection: Connection, rotate: Callable[[bytes], bytes]) -> dict[str, int]:
    """Passes every stored ciphertext through `rotate` in the caller's transaction; counts."""
    counts: dict[str, int] = {}
    for column in ENCRYPTED_COLUMNS:
        rows = connection.execute(
            select(column.key, column.value).where(column.value.isnot(None))
        ).all()
        for row_id, ciphertext in rows:
            connection.execute(
                update(column.table)
                .where(column.key == row_id)
                .values({column.value_name: rotate(bytes(ciphertext))})
            )
        counts[column.label] = len(rows)
    return counts


def keyring_for(
    bind: Engine | Connection, settings: Settings | None = None, *, create: bool = True
) -> Keyring:
    """The keyring; a missing key file is an error (not a new key) while secrets are stored.

    It re-reads its keys when a value does not open (a rotation by another process).
    """
    ring = load_keyring(settings, create=create, in_use=lambda: encrypted_value_count(bind))
    ring.reload = lambda: load_keyring(settings, create=False)
    return ring
