"""Key rotation: every encrypted column re-encrypted in one transaction; old key kept till then."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from licensewatch.security.crypto import KeyFileSwap, Keyring
from licensewatch.services.audit import note
from licensewatch.settings import Settings, load_settings
from licensewatch.storage.database import write_transaction
from licensewatch.storage.encrypted import keyring_for, reencrypt_all


@dataclass(frozen=True)
class RotationResult:
    counts: dict[str, int]  # values re-encrypted per column ("table.column")
    source: str
    new_key_file: bool  # False: keys come from the environment, the operator rotates them there

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _reencrypt(engine: Engine, ring: Keyring, swap: KeyFileSwap | None = None) -> dict[str, int]:
    with write_transaction(engine) as connection:
        counts = reencrypt_all(connection, ring.rotate)
        if swap is not None:
            # Inside the transaction: should the commit fail or the process die, both key
            # files exist and `load_keyring` reads both, so nothing becomes unreadable.
            swap.install()
    return counts


def rotate_key(engine: Engine, settings: Settings | None = None) -> RotationResult:
    """Re-encrypts every registered column under a new primary key, all or nothing."""
    result = _rotate(engine, settings or load_settings())
    detail = {"values": result.total, "key_file": result.new_key_file}
    note(engine, "key.rotated", {**detail, "source": "key file" if result.new_key_file else "env"})
    return result


def _rotate(engine: Engine, settings: Settings) -> RotationResult:
    current = keyring_for(engine, settings, create=True)
    if settings.secret_keys():
        return RotationResult(_reencrypt(engine, current), current.source, new_key_file=False)

    swap = KeyFileSwap(settings, current)
    try:
        counts = _reencrypt(engine, swap.ring, swap)
    except BaseException:
        swap.abort()
        raise
    # A writer that encrypted with the old key while we waited for the write lock committed
    # after us: a second pass (new key first, old key still there) brings it over too.
    _reencrypt(engine, swap.ring)
    swap.finish()
    return RotationResult(counts, str(settings.key_file), new_key_file=True)
