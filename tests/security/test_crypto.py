"""Encryption at rest: key sources, key file permissions, and rotation."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from licensewatch.security.crypto import (
    DecryptionError,
    SecretKeyError,
    generate_key,
    load_keyring,
)
from licensewatch.settings import Settings


def _settings(home: Path, secret_key: str | None = None) -> Settings:
    return Settings(home=home, secret_key=SecretStr(secret_key) if secret_key else None)


def test_key_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home")
    ring = load_keyring(settings)
    mode = stat.S_IMODE(settings.key_file.stat().st_mode)
    assert mode == 0o600
    token = ring.encrypt(b"hello")
    assert load_keyring(settings).decrypt(token) == b"hello"
    assert "hidden" in repr(ring)
    assert settings.key_file.read_bytes().strip() not in repr(ring).encode()


def test_key_file_created_under_a_strict_umask_is_still_readable(tmp_path: Path) -> None:
    previous = os.umask(0o277)
    try:
        ring = load_keyring(_settings(tmp_path))
    finally:
        os.umask(previous)
    assert ring.decrypt(ring.encrypt(b"x")) == b"x"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_group_or_world_access_is_refused(tmp_path: Path, mode: int) -> None:
    settings = _settings(tmp_path)
    load_keyring(settings)
    settings.key_file.chmod(mode)
    with pytest.raises(SecretKeyError, match=r"refusing to use key file .*chmod 600"):
        load_keyring(settings)


def test_invalid_key_file(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    settings.key_file.write_text("not a key")
    settings.key_file.chmod(0o600)
    with pytest.raises(SecretKeyError, match="not a Fernet key"):
        load_keyring(settings)


def test_environment_keys_primary_first_and_older_still_decrypt(tmp_path: Path) -> None:
    old, new = generate_key().decode(), generate_key().decode()
    token = load_keyring(_settings(tmp_path, old)).encrypt(b"data")
    ring = load_keyring(_settings(tmp_path, f"{new}, {old}"))
    assert ring.decrypt(token) == b"data"
    assert Fernet(new.encode()).decrypt(ring.encrypt(b"x")) == b"x"
    assert not (tmp_path / "secret.key").exists()
    with pytest.raises(DecryptionError, match="cannot be decrypted"):
        load_keyring(_settings(tmp_path, new)).decrypt(token)


def test_invalid_environment_key(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError, match="LICENSEWATCH_SECRET_KEY is not a Fernet key"):
        load_keyring(_settings(tmp_path, "short"))


def test_settings_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path))
    monkeypatch.setenv("LICENSEWATCH_LOG_LEVEL", "debug")
    monkeypatch.setenv("LICENSEWATCH_LOG_FORMAT", "json")
    monkeypatch.delenv("LICENSEWATCH_DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'licensewatch.db'}"
    assert settings.log_level == "DEBUG"
    assert settings.log_format == "json"
    assert settings.key_file == tmp_path / "secret.key"
    monkeypatch.setenv("LICENSEWATCH_LOG_LEVEL", "loud")
    with pytest.raises(ValueError, match="log_level"):
        Settings()
