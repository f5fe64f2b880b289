"""The embedded daemon over a dozen emulated tenants: healthy ones on time, broken ones back off."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from daemon_fleet import (
    assert_no_overlap,
    current_users,
    http_get,
    new_keyring,
    onboard,
    revoke_consent,
    runs,
    schedules,
    wait_for,
)
from sqlalchemy import Engine
from typer.testing import CliRunner

from emulator_fixtures import EmulatorFactory
from licensewatch.cli import app
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.observability.server import MetricsServer
from licensewatch.observability.sync_metrics import SyncMetrics
from licensewatch.security.crypto import Keyring
from licensewatch.storage.database import make_engine
from licensewatch.storage.models import SyncStatus, utcnow
from licensewatch.sync.daemon import Daemon, DaemonConfig
from licensewatch.sync.scheduler import SyncOptions

WRONG = (3, 7)
NO_CONSENT = (5, 10)
FAST = DaemonConfig(concurrency=4, tick_seconds=0.1, refresh_seconds=0.5, stop_timeout=10)


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    created = make_engine(sqlite_url)
    yield created
    created.dispose()


def test_fleet_healthy_on_time_broken_back_off(
    make_emulator: EmulatorFactory,
    engine: Engine,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    emulator = make_emulator(tenants=12, users=20, scenario="msp", seed=5)
    for index in NO_CONSENT:
        revoke_consent(emulator, index)
    keyring, key = new_keyring()
    tenants = onboard(engine, emulator, keyring, wrong_secret=WRONG)
    pks = sorted(tenants.values())
    broken = {pks[i] for i in (*WRONG, *NO_CONSENT)}

    daemon = Daemon(engine, SyncOptions(keyring=keyring, metrics=SyncMetrics()), FAST)
    server = MetricsServer("127.0.0.1", 0, daemon.metrics.registry, daemon.health.check)
    thread = threading.Thread(target=daemon.run, name="daemon-under-test")
    started = utcnow()
    thread.start()
    try:

        def all_ran() -> bool:
            rows = schedules(engine)
            return len(rows) == 12 and all(
                r.last_success_at is not None or r.consecutive_failures > 0 for r in rows.values()
            )

        wait_for(all_ran, 60, "every tenant's first sync")
        finished = utcnow()
        rows = schedules(engine)
        for pk in pks:
            row = rows[pk]
            assert row.next_sync_at is not None
            if pk in broken:
                assert row.last_success_at is None
                assert row.consecutive_failures == 1
                # Backoff: the first retry waits 30-60 s (base 1 min, jitter), not the 1 h interval.
                assert finished + timedelta(seconds=25) < row.next_sync_at
                assert row.next_sync_at < finished + timedelta(minutes=2)
            else:
                assert row.consecutive_failures == 0
                assert row.last_success_at is not None
                assert row.last_success_at >= started
                assert current_users(engine, pk)[1] == 20
                # Due again after the default hour, moved by at most ±10 % jitter.
                assert finished + timedelta(minutes=50) < row.next_sync_at
                assert row.next_sync_at < finished + timedelta(minutes=70)

        wait_for(lambda: "licensewatch_tenants_failing 4" in daemon.metrics.render(), 10, "gauge")
        code, body = http_get(server.url + "/metrics")
        assert code == 200
        assert 'licensewatch_sync_runs_total{outcome="completed",tenant="t00"} 1' in body
        assert 'licensewatch_sync_failures_total{kind="AuthError",tenant="t03"} 1' in body
        assert "licensewatch_sync_duration_seconds_bucket" in body
        assert 'licensewatch_sync_users_read_total{tenant="t00"} 20' in body
        assert 'licensewatch_sync_last_success_timestamp_seconds{tenant="t00"}' in body
        assert "licensewatch_syncs_in_flight 0" in body
        code, body = http_get(server.url + "/healthz")
        assert code == 200
        assert json.loads(body)["status"] == "ok"

        monkeypatch.setenv("LICENSEWATCH_DATABASE_URL", sqlite_url)
        monkeypatch.setenv("LICENSEWATCH_SECRET_KEY", key)
        monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
        result = CliRunner().invoke(app, ["status", "--format", "json"])
        assert result.exit_code == 0, result.output
        status = {row["name"]: row for row in json.loads(result.stdout)}
        for index in WRONG:
            row = status[f"t{index:02d}"]
            assert row["failing"]
            assert row["consecutive_failures"] == 1
            assert row["last_error"].startswith("AuthError:wrong_secret"), row["last_error"]
            assert "AADSTS7000215" in row["last_error"]
        for index in NO_CONSENT:
            row = status[f"t{index:02d}"]
            assert row["failing"]
            assert "admin consent was not granted" in row["last_error"], row["last_error"]
        healthy = [row for row in status.values() if not row["failing"]]
        assert len(healthy) == 8
        assert all(row["users"] == 20 and row["last_error"] is None for row in healthy)
        assert all(row["lease_owner"] is None for row in status.values())
        table = CliRunner().invoke(app, ["status"])
        assert table.exit_code == 0
        assert "t03" in table.stdout
    finally:
        daemon.stop()
        thread.join(30)
        server.close()
    assert not thread.is_alive()
    assert all(row.lease_owner is None for row in schedules(engine).values())
    assert_no_overlap(runs(engine))


def test_two_daemons_never_sync_a_tenant_twice(
    make_emulator: EmulatorFactory, engine: Engine
) -> None:
    evaluated: list[int] = []

    def evaluate_alerts(_engine: Engine, tenant_pk: int, /, *, keyring: Keyring | None) -> None:
        evaluated.append(tenant_pk)
        raise RuntimeError("a broken alert rule must not stop the daemon")

    emulator = make_emulator(
        tenants=8, users=15, scenario="msp", seed=9, options=EmulatorOptions(latency_ms=60)
    )
    keyring, _ = new_keyring()
    onboard(engine, emulator, keyring)
    daemons = [
        Daemon(
            engine,
            SyncOptions(keyring=keyring, after_sync=evaluate_alerts),
            DaemonConfig(concurrency=3, once=True),
        )
        for _ in range(2)
    ]
    threads = [threading.Thread(target=d.run) for d in daemons]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    all_runs = runs(engine)
    completed = [r for r in all_runs if r.status == SyncStatus.COMPLETED]
    assert sorted(r.tenant_id for r in completed) == sorted(schedules(engine))
    assert not [r for r in all_runs if r.status != SyncStatus.COMPLETED]
    assert all(len(d.outcomes) >= 1 for d in daemons)  # both took part
    assert_no_overlap(all_runs)
    assert sorted(evaluated) == sorted(schedules(engine))  # the alert hook ran after each sync
