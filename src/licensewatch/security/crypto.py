"""Credentials encrypted at rest: Fernet keys from the environment or a 0600 key file; rotation."""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Connection, Engine, select, update

from licensewatch.settings import Settings, load_settings
from licensewatch.storage.models.tenants import Credential

OLD_SUFFIX = ".old"


class SecretKeyError(Exception):
    """The encryption key is missing, malformed or unsafely stored; the message says the fix."""


class DecryptionError(Exception):
    """Stored ciphertext does not open with any configured key."""


@dataclass(frozen=True)
class Keyring:
    """The primary key (encrypts) followed by older keys (still decrypt)."""

    keys: tuple[bytes, ...]
    source: str  # "environment" or the key file path, for messages

    def __post_init__(self) -> None:
        if not self.keys:
            raise SecretKeyError("no encryption key configured")

    def __repr__(self) -> str:
        return f"Keyring(source={self.source!r}, keys=<{len(self.keys)} hidden>)"

    @property
    def _fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(key) for key in self.keys])

    def encrypt(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise DecryptionError(
                f"a stored credential cannot be decrypted with the key from {self.source}: "
                "restore the previous key (or list it after the primary key in "
                "LICENSEWATCH_SECRET_KEY), or re-enter the credential with "
                "`licensewatch tenant update NAME`"
            ) from None

    def rotate(self, token: bytes) -> bytes:
        """Decrypts with any key, re-encrypts with the primary."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            self.decrypt(token)  # raises the explanatory DecryptionError
            raise


def generate_key() -> bytes:
    return Fernet.generate_key()


def _checked_key(raw: bytes, source: str) -> bytes:
    key = raw.strip()
    try:
        Fernet(key)
    except (ValueError, TypeError):
        raise SecretKeyError(
            f"the key in {source} is not a Fernet key (32 url-safe base64-encoded bytes); "
            "generate one with `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`"
        ) from None
    return key


def _check_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SecretKeyError(
            f"refusing to use key file {path}: it is readable or writable by group/others "
            f"(mode {mode:04o}); run `chmod 600 {path}`"
        )


def _read_key_file(path: Path) -> bytes:
    _check_mode(path)
    return _checked_key(path.read_bytes(), str(path))


def _write_private(path: Path, data: bytes, *, exclusive: bool) -> None:
    """Writes an owner-only file (mode set explicitly: a strict umask must not lock us out)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _ensure_home(home: Path) -> None:
    if not home.exists():
        home.mkdir(parents=True, mode=0o700)


def _file_keys(settings: Settings, *, create: bool) -> list[bytes]:
    path = settings.key_file
    keys: list[bytes] = []
    if path.exists():
        keys.append(_read_key_file(path))
    elif create:
        _ensure_home(settings.home)
        with contextlib.suppress(FileExistsError):  # another process created it first: use theirs
            _write_private(path, generate_key() + b"\n", exclusive=True)
        keys.append(_read_key_file(path))
    old = path.with_name(path.name + OLD_SUFFIX)
    if old.exists():  # an interrupted rotation: rows may still be under the old key
        keys.append(_read_key_file(old))
    return keys


def load_keyring(settings: Settings | None = None, *, create: bool = True) -> Keyring:
    """Keys from LICENSEWATCH_SECRET_KEY (primary first), else from `<home>/secret.key`."""
    settings = settings or load_settings()
    env_keys = settings.secret_keys()
    if env_keys:
        keys = [_checked_key(key, "LICENSEWATCH_SECRET_KEY") for key in env_keys]
        if settings.key_file.exists():  # lets a file-key installation move to the environment
            keys += _file_keys(settings, create=False)
        return Keyring(tuple(dict.fromkeys(keys)), "LICENSEWATCH_SECRET_KEY")
    keys = _file_keys(settings, create=create)
    if not keys:
        raise SecretKeyError(
            f"no encryption key: set LICENSEWATCH_SECRET_KEY or create {settings.key_file}"
        )
    return Keyring(tuple(dict.fromkeys(keys)), str(settings.key_file))


def encrypt(data: bytes, settings: Settings | None = None) -> bytes:
    return load_keyring(settings).encrypt(data)


def decrypt(token: bytes, settings: Settings | None = None) -> bytes:
    return load_keyring(settings, create=False).decrypt(token)


@dataclass(frozen=True)
class RotationResult:
    credentials: int
    source: str
    new_key_file: bool  # False: keys come from the environment, the operator rotates them there


def _reencrypt_all(connection: Connection, ring: Keyring) -> int:
    rows = connection.execute(select(Credential.id, Credential.ciphertext)).all()
    for row_id, ciphertext in rows:
        new = ring.rotate(bytes(ciphertext))
        connection.execute(update(Credential).where(Credential.id == row_id).values(ciphertext=new))
    return len(rows)


def rotate_key(engine: Engine, settings: Settings | None = None) -> RotationResult:
    """Re-encrypts all credentials in ONE transaction; swaps a key file for a new key atomically."""
    settings = settings or load_settings()
    current = load_keyring(settings, create=True)
    if settings.secret_keys():
        with engine.begin() as connection:
            count = _reencrypt_all(connection, current)
        return RotationResult(count, current.source, new_key_file=False)

    path = settings.key_file
    old_path = path.with_name(path.name + OLD_SUFFIX)
    staged = path.with_name(path.name + ".new")
    new_key = generate_key()
    ring = Keyring((new_key, *current.keys), str(path))
    with contextlib.suppress(FileNotFoundError):
        staged.unlink()
    _write_private(staged, new_key + b"\n", exclusive=True)
    try:
        with engine.begin() as connection:
            count = _reencrypt_all(connection, ring)
            # Keep the old key until the commit: a crash in between leaves both keys readable.
            _write_private(old_path, current.keys[0] + b"\n", exclusive=False)
            os.replace(staged, path)
    except BaseException:
        if old_path.exists() and _read_key_file(path) == new_key:
            os.replace(old_path, path)
        with contextlib.suppress(FileNotFoundError):
            staged.unlink()
        raise
    old_path.unlink()
    return RotationResult(count, str(path), new_key_file=True)
