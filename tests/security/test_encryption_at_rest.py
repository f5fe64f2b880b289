"""Credentials are encrypted in the database file; key rotation keeps them readable."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from licensewatch.cli import app
from licensewatch.domain.certificates import load_certificate
from licensewatch.emulator.certs import make_client_certificate
from licensewatch.graph.connection import CertificateCredential, ClientSecretCredential
from licensewatch.security.crypto import DecryptionError, load_keyring
from licensewatch.services.keys import rotate_key
from licensewatch.services.tenants import SecretInput, TenantService, TenantSettings
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine

SECRET = "abC8Q~AtRestSecretValue.0123456789_-xyzAB"
CLIENT = "4d856d1f-0000-4000-8000-000000000001"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path))
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    monkeypatch.delenv("LICENSEWATCH_DATABASE_URL", raising=False)
    return Settings()


def _database_bytes(home: Path) -> bytes:
    # WAL mode: recent pages may sit in the -wal file, so read every file of the database.
    return b"".join(p.read_bytes() for p in home.glob("licensewatch.db*"))


def test_secret_and_private_key_never_reach_the_database_file(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    service = TenantService(engine)
    pair = make_client_certificate("lw", dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
    service.add(
        TenantSettings(
            name="secret", tenant_id="contoso.com", client_id=CLIENT, credential=SecretInput(SECRET)
        )
    )
    service.add(
        TenantSettings(
            name="cert",
            tenant_id="contoso.com",
            client_id=CLIENT,
            credential=load_certificate(pair.certificate_pem, pair.private_key_pem),
        )
    )
    engine.dispose()
    data = _database_bytes(settings.home)
    assert b"contoso.com" in data  # the file really holds the tenants
    assert SECRET.encode() not in data
    key_lines = pair.private_key_pem.splitlines()[1:-1]
    assert not any(line in data for line in key_lines)
    assert b"PRIVATE KEY" not in data
    # ...and the service still opens them.
    service = TenantService(make_engine(settings.database_url))
    secret = service.connection_for("secret").credential
    assert isinstance(secret, ClientSecretCredential)
    assert secret.secret == SECRET
    cert = service.connection_for("cert").credential
    assert isinstance(cert, CertificateCredential)
    assert cert.certificate_pem == pair.certificate_pem


def test_rotation_replaces_the_key_file_and_keeps_credentials(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    TenantService(engine).add(
        TenantSettings(
            name="t", tenant_id="contoso.com", client_id=CLIENT, credential=SecretInput(SECRET)
        )
    )
    old_key = settings.key_file.read_bytes()
    result = CliRunner().invoke(app, ["key", "rotate"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 1 secret(s)" in result.stdout
    new_key = settings.key_file.read_bytes()
    assert new_key != old_key
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    assert not settings.key_file.with_name("secret.key.old").exists()
    assert not settings.key_file.with_name("secret.key.new").exists()
    credential = TenantService(engine).connection_for("t").credential
    assert isinstance(credential, ClientSecretCredential)
    assert credential.secret == SECRET
    # The old key alone can no longer open what is stored.
    settings.key_file.write_bytes(old_key)
    with pytest.raises(DecryptionError):
        TenantService(engine, load_keyring(settings)).connection_for("t")


def test_a_failed_rotation_changes_nothing(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    service = TenantService(engine)
    service.add(
        TenantSettings(
            name="t", tenant_id="contoso.com", client_id=CLIENT, credential=SecretInput(SECRET)
        )
    )
    old_key = settings.key_file.read_bytes()
    from sqlalchemy import update

    from licensewatch.storage.models.tenants import Credential

    with engine.begin() as connection:  # a row no key opens: rotation must abort before any change
        connection.execute(update(Credential).values(ciphertext=b"garbage"))
    with pytest.raises(DecryptionError):
        rotate_key(engine, settings)
    assert settings.key_file.read_bytes() == old_key
    assert not settings.key_file.with_name("secret.key.old").exists()


def test_environment_key_rotation_reencrypts_with_the_primary(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.fernet import Fernet

    first = Fernet.generate_key().decode()
    monkeypatch.setenv("LICENSEWATCH_SECRET_KEY", first)
    engine = make_engine(settings.database_url)
    TenantService(engine).add(
        TenantSettings(
            name="t", tenant_id="contoso.com", client_id=CLIENT, credential=SecretInput(SECRET)
        )
    )
    second = Fernet.generate_key().decode()
    monkeypatch.setenv("LICENSEWATCH_SECRET_KEY", f"{second},{first}")
    result = CliRunner().invoke(app, ["key", "rotate"])
    assert result.exit_code == 0, result.output
    assert "LICENSEWATCH_SECRET_KEY" in result.stdout
    monkeypatch.setenv("LICENSEWATCH_SECRET_KEY", second)
    credential = TenantService(engine).connection_for("t").credential
    assert isinstance(credential, ClientSecretCredential)
    assert credential.secret == SECRET
    assert not settings.key_file.exists()
