"""Every encrypted column is in the registry that key rotation walks: none can be forgotten."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import LargeBinary, inspect
from sqlalchemy.types import _Binary

import licensewatch
from licensewatch.storage.database import make_engine
from licensewatch.storage.encrypted import ENCRYPTED_COLUMNS
from licensewatch.storage.models import Base

SOURCE = Path(licensewatch.__file__).parent
REGISTERED = {column.label for column in ENCRYPTED_COLUMNS}
# Names that suggest a secret; a column so named is either encrypted (registered) or listed
# below with the reason it is not a secret at rest.
SECRET_NAME = re.compile(r"cipher|secret|password|passwd|token|api_key|private|url|webhook")
NOT_SECRETS = {
    "accounts.password_hash": "Argon2id hash: one-way, never decrypted",
    "api_tokens.token_hash": "SHA-256 digest of the token, shown once at creation",
    "web_sessions.csrf_secret": "per-session CSRF value: useless without the session cookie",
    "credentials.secret_expires_at": "a date the Entra portal shows",
    "sso_pending.next_url": "the same-site page to return to after sign-in (in the address bar)",
}
# Binary columns that hold no ciphertext, each with why it is not a secret.
PLAIN_BINARY = {
    "recommendation_rows.sort_key": "the list's sort order as bytes (one order on every engine)",
}


def _model_columns() -> dict[str, object]:
    return {
        f"{table.name}.{column.name}": column.type
        for table in Base.metadata.sorted_tables
        for column in table.columns
    }


def test_every_binary_column_of_the_models_is_registered() -> None:
    binary = {name for name, kind in _model_columns().items() if isinstance(kind, _Binary)}
    assert binary - set(PLAIN_BINARY) == REGISTERED, (
        "a binary column holds ciphertext: add it to storage/encrypted.py ENCRYPTED_COLUMNS "
        "(or it is never re-encrypted by `key rotate`)"
    )


def test_every_secret_named_column_is_registered_or_explained() -> None:
    suspicious = {
        name
        for name in _model_columns()
        if SECRET_NAME.search(name.split(".", 1)[1]) and name not in REGISTERED
    }
    unexplained = suspicious - set(NOT_SECRETS)
    assert unexplained == set(), (
        f"{sorted(unexplained)} look like secrets: encrypt them and register them in "
        "storage/encrypted.py, or explain in NOT_SECRETS why they are not secret"
    )
    stale = set(NOT_SECRETS) - set(_model_columns())
    assert stale == set(), f"NOT_SECRETS names columns that no longer exist: {sorted(stale)}"


def test_the_migrated_schema_has_no_unregistered_binary_column(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    try:
        inspector = inspect(engine)
        binary = {
            f"{table}.{column['name']}"
            for table in inspector.get_table_names()
            for column in inspector.get_columns(table)
            if isinstance(column["type"], _Binary)
        }
    finally:
        engine.dispose()
    assert binary - set(PLAIN_BINARY) == REGISTERED
    assert set(PLAIN_BINARY) <= binary, "PLAIN_BINARY names columns that no longer exist"


def _encrypt_calls() -> list[str]:
    calls = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "encrypt"
            ):
                calls.append(f"{path.relative_to(SOURCE)}:{node.lineno}")
    return calls


def test_encrypt_is_only_called_where_registered_columns_are_written() -> None:
    # Writers of encrypted values: a new one must write a registered column (and be added here).
    writers = {
        "services/tenants.py",  # credentials.ciphertext
        "services/sso.py",  # sso_settings.ciphertext, sso_pending.flow and .answer
        "intelligence/alerts/rules.py",  # alert_destinations.secret_ciphertext, target_ciphertext
        "storage/migrations/versions/0007_encrypted_webhook_urls.py",  # target_ciphertext
        "security/crypto.py",  # Keyring itself
    }
    places = {call.split(":", 1)[0] for call in _encrypt_calls()}
    assert places <= writers, f"new encryption sites, check the registry: {places - writers}"


@pytest.mark.parametrize("column", ENCRYPTED_COLUMNS, ids=lambda c: c.label)
def test_registered_columns_are_binary(column: object) -> None:
    from licensewatch.storage.encrypted import EncryptedColumn

    assert isinstance(column, EncryptedColumn)
    assert isinstance(column.value.type, LargeBinary)
