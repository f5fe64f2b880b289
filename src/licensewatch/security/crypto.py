"""Secrets encrypted at rest: Fernet keys from the environment or a 0600 key file; key swaps."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from licensewatch.security.files import ensure_private_dir
from licensewatch.settings import Settings, load_settings

OLD_SUFFIX = ".old"
NEW_SUFFIX = ".new"


class SecretKeyError(Exception):
    """The encryption key is missing, malformed or unsafely stored; the message says the fix."""


class DecryptionError(Exception):
    """Stored ciphertext does not open with any configured key."""


@dataclass(eq=False)
class Keyring:
    """The primary key (encrypts) followed by older keys (still decrypt).

    `reload` (set by `storage.encrypted.keyring_for`) lets a long-running process (daemon, web)
    pick up a `key rotate` made by another process: a value its keys cannot open makes it re-read
    the key source once before giving up.
    """

    keys: tuple[bytes, ...]
    source: str  # "environment" or the key file path, for messages
    reload: Callable[[], Keyring] | None = field(default=None, repr=False)

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

    def _reloaded(self) -> bool:
        """Re-reads the key source; True when it now holds other keys."""
        if self.reload is None:
            return False
        try:
            keys = self.reload().keys
        except SecretKeyError:
            return False
        if keys == self.keys:
            return False
        self.keys = keys
        return True

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            if self._reloaded():  # rotated by another process since we loaded the keys
                return self.decrypt(token)
            raise DecryptionError(
                f"a stored secret cannot be decrypted with the key from {self.source}: "
                "restore the previous key (or list it after the primary key in "
                "LICENSEWATCH_SECRET_KEY), or re-enter the secret (`licensewatch tenant update "
                "NAME`, or remove and add the alert destination)"
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


def _missing_key_error(settings: Settings, count: int) -> SecretKeyError:
    path = settings.key_file
    return SecretKeyError(
        f"the key file {path} is missing and LICENSEWATCH_SECRET_KEY is unset, but the database "
        f"holds {count} encrypted value(s) (credentials, alert destination secrets): a new key "
        f"could never open them, so none was created. Restore {path} from your backup "
        f"(`chmod 600 {path}`), or set LICENSEWATCH_SECRET_KEY to that key"
    )


def _file_keys(
    settings: Settings, *, create: bool, in_use: Callable[[], int] | None = None
) -> list[bytes]:
    path = settings.key_file
    keys: list[bytes] = []
    if path.exists():
        ensure_private_dir(path.parent)  # the key's directory holds the database too: 0700
        keys.append(_read_key_file(path))
    elif create or in_use is not None:
        count = in_use() if in_use is not None else 0
        if count:  # the key was lost, not never made: a new one would orphan every secret
            raise _missing_key_error(settings, count)
        if create:
            ensure_private_dir(settings.home)
            with contextlib.suppress(FileExistsError):  # another process created it: use theirs
                _write_private(path, generate_key() + b"\n", exclusive=True)
            keys.append(_read_key_file(path))
    old = path.with_name(path.name + OLD_SUFFIX)
    if old.exists():  # an interrupted rotation: rows may still be under the old key
        keys.append(_read_key_file(old))
    return keys


def load_keyring(
    settings: Settings | None = None,
    *,
    create: bool = True,
    in_use: Callable[[], int] | None = None,
) -> Keyring:
    """Keys from LICENSEWATCH_SECRET_KEY (primary first), else from `<home>/secret.key`.

    `in_use` counts the encrypted values stored (see `storage.encrypted.keyring_for`): when it
    is given and the key file is missing while values exist, this raises instead of creating.
    """
    settings = settings or load_settings()
    env_keys = settings.secret_keys()
    if env_keys:
        keys = [_checked_key(key, "LICENSEWATCH_SECRET_KEY") for key in env_keys]
        if settings.key_file.exists():  # lets a file-key installation move to the environment
            keys += _file_keys(settings, create=False)
        return Keyring(tuple(dict.fromkeys(keys)), "LICENSEWATCH_SECRET_KEY")
    keys = _file_keys(settings, create=create, in_use=in_use)
    if not keys:
        raise SecretKeyError(
            f"no encryption key: set LICENSEWATCH_SECRET_KEY or create {settings.key_file}"
        )
    return Keyring(tuple(dict.fromkeys(keys)), str(settings.key_file))


class KeyFileSwap:
    """Replaces the key file by a new key around one database transaction, never losing a key.

    `begin` stages the new key (`secret.key.new`); `install`, called inside the transaction that
    re-encrypts everything, saves the current key as `secret.key.old` and moves the new key in
    (atomic rename); after the commit `finish` removes the old key, and `abort` puts it back.
    Until `finish`, `load_keyring` reads both files, so a crash at any point leaves every
    stored value readable.
    """

    def __init__(self, settings: Settings, current: Keyring) -> None:
        self.path = settings.key_file
        self.old_path = self.path.with_name(self.path.name + OLD_SUFFIX)
        self.staged = self.path.with_name(self.path.name + NEW_SUFFIX)
        self.current = current
        self.new_key = generate_key()
        self.ring = Keyring((self.new_key, *current.keys), str(self.path))
        with contextlib.suppress(FileNotFoundError):
            self.staged.unlink()
        _write_private(self.staged, self.new_key + b"\n", exclusive=True)

    def install(self) -> None:
        _write_private(self.old_path, self.current.keys[0] + b"\n", exclusive=False)
        os.replace(self.staged, self.path)

    def abort(self) -> None:
        if self.old_path.exists() and _read_key_file(self.path) == self.new_key:
            os.replace(self.old_path, self.path)
        with contextlib.suppress(FileNotFoundError):
            self.staged.unlink()

    def finish(self) -> None:
        self.old_path.unlink()
