"""Password hashing (argon2id), one hash at a time per process to bound its memory."""

from __future__ import annotations

import threading

from argon2 import PasswordHasher

_hasher = PasswordHasher()
# Each argon2 hash fills `memory_cost` (64 MiB by default) while it runs. Twenty browsers
# signing in at once ran twenty of them side by side in the thread pool: a web worker went
# from 110 to 245 MiB for the length of a sign-in. One at a time costs a queued sign-in about
# 50 ms per sign-in ahead of it, and keeps the worker under its 250 MB.
_ONE_AT_A_TIME = threading.Lock()


def hash_password(password: str) -> str:
    """The argon2id hash of a password."""
    with _ONE_AT_A_TIME:
        return _hasher.hash(password)


def verify_password(stored: str, password: str) -> None:
    """Raises argon2's VerificationError or InvalidHashError when the password does not match."""
    with _ONE_AT_A_TIME:
        _hasher.verify(stored, password)


def needs_rehash(stored: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored)
