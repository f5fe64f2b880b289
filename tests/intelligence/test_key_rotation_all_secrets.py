"""`key rotate` keeps every secret (credentials, webhook keys and URLs, SMTP passwords); a lost
key file is an error naming the fix, never a silent new key."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import pytest
from alert_receivers import Hook, webhook_server
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from licensewatch.cli import app
from licensewatch.intelligence.alerts.evaluate import send_test
from licensewatch.intelligence.alerts.rules import add_destination, destination
from licensewatch.security.crypto import DecryptionError, Keyring, SecretKeyError, load_keyring
from licensewatch.services.keys import rotate_key
from licensewatch.services.tenants import SecretInput, TenantService, TenantSettings
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine, session_scope
from licensewatch.storage.encrypted import keyring_for
from licensewatch.storage.models.intelligence import AlertDestination
from licensewatch.storage.models.tenants import Credential

CLIENT_SECRET = "abC8Q~RotationSecretValue.0123456789_-xyz"
HOOK_SECRET = "hook-signing-key-0123456789"
SMTP_PASSWORD = "smtp-password-0123456789"
CLIENT = "4d856d1f-0000-4000-8000-000000000001"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Settings:
    # SQLite and PostgreSQL: the rotation's single transaction must hold on both.
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    monkeypatch.setenv("LICENSEWATCH_DATABASE_URL", database_url)
    return Settings()


@pytest.fixture
def hook() -> Iterator[Hook]:
    with webhook_server() as receiver:
        yield receiver


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    created = make_engine(settings.database_url)
    yield created
    created.dispose()


def _store_everything(engine: Engine, hook: Hook) -> str:
    TenantService(engine).add(
        TenantSettings(
            name="t",
            tenant_id="contoso.com",
            client_id=CLIENT,
            credential=SecretInput(CLIENT_SECRET),
        )
    )
    url = hook.url + "?code=function-key-0123456789"
    add_destination(engine, "hook", "webhook", url, secret=HOOK_SECRET)
    options = {"host": "127.0.0.1", "port": 2525, "security": "none", "sender": "lw@example.org"}
    add_destination(
        engine, "mail", "email", "it@example.org", secret=SMTP_PASSWORD, options=options
    )
    return url


def _ciphertexts(engine: Engine) -> list[bytes]:
    with session_scope(engine, write=False) as session:
        values = list(session.scalars(select(Credential.ciphertext)))
        for row in session.scalars(select(AlertDestination).order_by(AlertDestination.id)):
            values += [v for v in (row.secret_ciphertext, row.target_ciphertext) if v]
    return [bytes(v) for v in values]


def test_rotation_reencrypts_every_registered_column_and_signed_webhooks_still_work(
    settings: Settings, engine: Engine, hook: Hook
) -> None:
    url = _store_everything(engine, hook)
    old_key = settings.key_file.read_bytes()
    before = _ciphertexts(engine)
    assert len(before) == 4  # credential, hook key, hook URL, SMTP password

    result = CliRunner().invoke(app, ["key", "rotate"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 4 secret(s)" in result.stdout
    assert "alert_destinations.secret_ciphertext: 2" in result.stdout
    assert "alert_destinations.target_ciphertext: 1" in result.stdout
    assert settings.key_file.read_bytes() != old_key
    assert not settings.key_file.with_name("secret.key.old").exists()

    after = _ciphertexts(engine)
    assert all(a != b for a, b in zip(before, after, strict=True))
    old_only = Keyring((old_key.strip(),), "old key")
    for value in after:  # the old key opens nothing: every column moved to the new key
        with pytest.raises(DecryptionError):
            old_only.decrypt(value)

    ring = load_keyring(settings, create=False)
    assert ring.keys == (settings.key_file.read_bytes().strip(),)
    with session_scope(engine, write=False) as session:
        assert destination(session, "hook", ring).target == url
        assert destination(session, "mail", ring).secret == SMTP_PASSWORD.encode()
    credential = TenantService(engine).connection_for("t").credential
    assert getattr(credential, "secret", None) == CLIENT_SECRET

    # End to end: the webhook is still delivered, to its URL, signed with the same key.
    notice = send_test(engine, "hook")
    assert notice.delivered, notice.error
    headers, body = hook.requests[-1]
    signed = headers["x-licensewatch-timestamp"].encode() + b"." + body
    expected = hmac.new(HOOK_SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert headers["x-licensewatch-signature"] == f"sha256={expected}"


def test_a_rotation_failing_on_an_alert_secret_changes_nothing(
    settings: Settings, engine: Engine, hook: Hook
) -> None:
    _store_everything(engine, hook)
    old_key = settings.key_file.read_bytes()
    with engine.begin() as connection:  # a value no key opens, in the LAST registered column
        connection.execute(
            update(AlertDestination)
            .where(AlertDestination.name == "hook")
            .values(target_ciphertext=b"garbage")
        )
    before = _ciphertexts(engine)
    with pytest.raises(DecryptionError):
        rotate_key(engine, settings)
    assert _ciphertexts(engine) == before  # the credential's re-encryption was rolled back
    assert settings.key_file.read_bytes() == old_key
    for suffix in (".old", ".new"):
        assert not settings.key_file.with_name("secret.key" + suffix).exists()


def test_an_interrupted_rotation_leaves_both_keys_readable(
    settings: Settings, engine: Engine, hook: Hook
) -> None:
    _store_everything(engine, hook)
    old_key = settings.key_file.read_bytes().strip()
    # What a crash after the key swap but before the commit leaves: new key file, old key kept.
    from licensewatch.security.crypto import KeyFileSwap

    swap = KeyFileSwap(settings, load_keyring(settings))
    swap.install()
    ring = load_keyring(settings, create=False)
    assert ring.keys == (swap.new_key, old_key)
    with session_scope(engine, write=False) as session:
        assert destination(session, "mail", ring).secret == SMTP_PASSWORD.encode()
    # Running the rotation again completes it.
    rotate_key(engine, settings)
    assert not settings.key_file.with_name("secret.key.old").exists()
    with session_scope(engine, write=False) as session:
        assert destination(session, "mail").secret == SMTP_PASSWORD.encode()


def test_a_missing_key_file_with_secrets_stored_is_an_error_not_a_new_key(
    settings: Settings, engine: Engine, hook: Hook
) -> None:
    _store_everything(engine, hook)
    settings.key_file.unlink()
    cli = CliRunner()
    result = cli.invoke(
        app,
        [
            "alerts",
            "destination",
            "m2",
            "--email",
            "a@example.org",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-security",
            "none",
            "--from",
            "lw@example.org",
        ],
    )
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert f"key file {settings.key_file} is missing" in message
    assert "Restore" in message
    assert "from your backup" in message
    assert not settings.key_file.exists()  # no silent new key

    rotated = cli.invoke(app, ["key", "rotate"])
    assert rotated.exit_code == 2
    assert "from your backup" in " ".join(rotated.output.split())
    with pytest.raises(SecretKeyError, match="from your backup"):
        TenantService(engine).connection_for("t")
    with pytest.raises(SecretKeyError, match="from your backup"):
        send_test(engine, "hook")
    assert not settings.key_file.exists()


def test_a_first_run_without_secrets_still_creates_the_key(
    settings: Settings, engine: Engine
) -> None:
    TenantService(engine).add(
        TenantSettings(
            name="t", tenant_id="contoso.com", client_id=CLIENT, credential=SecretInput("x" * 40)
        )
    )
    assert settings.key_file.exists()


def test_a_running_process_picks_up_a_rotation_made_by_another(
    settings: Settings, engine: Engine, hook: Hook
) -> None:
    _store_everything(engine, hook)
    held = keyring_for(engine, settings)  # what a daemon or web app loaded at its start
    assert CliRunner().invoke(app, ["key", "rotate"]).exit_code == 0
    # The old key is gone from disk; the running process re-reads the key file on first miss.
    credential = TenantService(engine, held).connection_for("t").credential
    assert getattr(credential, "secret", None) == CLIENT_SECRET
    assert held.keys == (settings.key_file.read_bytes().strip(),)
    with session_scope(engine, write=False) as session:
        assert destination(session, "mail", held).secret == SMTP_PASSWORD.encode()
