"""The daemon calls the report hook its caller passes in (a typed callback, not a module name)."""

from __future__ import annotations

from datetime import datetime

from daemon_fleet import new_keyring

from licensewatch.security.crypto import Keyring
from licensewatch.storage.database import make_engine
from licensewatch.sync.daemon import Daemon, DaemonConfig
from licensewatch.sync.scheduler import SyncOptions


def test_daemon_sends_reports_through_the_callback_and_survives_its_failure(
    sqlite_url: str,
) -> None:
    engine = make_engine(sqlite_url)
    keyring, _ = new_keyring()
    calls: list[tuple[datetime, Keyring | None]] = []

    def send_reports(_engine: object, now: datetime, /, *, keyring: Keyring | None) -> None:
        calls.append((now, keyring))
        raise RuntimeError("a broken mail server must not stop the daemon")

    try:
        options = SyncOptions(keyring=keyring, send_reports=send_reports)
        code = Daemon(engine, options, DaemonConfig(once=True, tick_seconds=0.01)).run()
    finally:
        engine.dispose()
    assert code == 0
    assert len(calls) == 1
    assert calls[0][1] is keyring


def test_no_hooks_no_calls(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    keyring, _ = new_keyring()
    try:
        assert Daemon(engine, SyncOptions(keyring=keyring), DaemonConfig(once=True)).run() == 0
    finally:
        engine.dispose()
