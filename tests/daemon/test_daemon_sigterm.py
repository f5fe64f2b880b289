"""SIGTERM mid-sync: the daemon process exits 0, the old data stays intact, a restart completes."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from daemon_fleet import (
    current_users,
    http_get,
    new_keyring,
    onboard,
    process_env,
    runs,
    schedules,
    spawn,
    wait_for,
)
from sqlalchemy import update

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.app import create_app
from licensewatch.emulator.faults import FaultInjector
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.seed import build_world
from licensewatch.storage.database import make_engine, write_transaction
from licensewatch.storage.models import SyncStatus, TenantSchedule, utcnow

USERS = 120


def _run_once(env: dict[str, str], log: Path) -> int:
    process = spawn(env, log, "daemon", "--once", "--metrics-port", "-1")
    return process.wait(timeout=60)


def test_sigterm_mid_sync_keeps_data_and_restart_completes(
    make_emulator: EmulatorFactory, sqlite_url: str, tmp_path: Path
) -> None:
    world = build_world(tenants=1, users=USERS, seed=3, cert_dir=tmp_path / "certs")
    emulator_app = create_app(world, EmulatorOptions())
    emulator = make_emulator(world, app=emulator_app)
    injector: FaultInjector = emulator_app.state.injector
    engine = make_engine(sqlite_url)
    keyring, key = new_keyring()
    (pk,) = onboard(engine, emulator, keyring).values()
    env = process_env(tmp_path / "home", sqlite_url, key)
    log = tmp_path / "daemon.log"

    assert _run_once(env, log) == 0, log.read_text()
    dataset, users = current_users(engine, pk)
    assert dataset is not None
    assert users == USERS

    # The users page now takes 4 s: SIGTERM lands while it is on the wire.
    injector.configure("latency=4000@/v1.0/users")
    with write_transaction(engine) as db:
        db.execute(update(TenantSchedule).values(next_sync_at=utcnow()))
    daemon = spawn(env, log, "daemon", "--metrics-port", "0", "--stop-timeout", "20")
    try:
        wait_for(lambda: "metrics at http" in log.read_text(), 30, "the metrics server")
        match = re.search(r"metrics at (http://[\d.:]+)/metrics", log.read_text())
        assert match is not None
        code, body = http_get(match.group(1) + "/healthz")
        assert code == 200, body
        wait_for(
            lambda: any(r.status == SyncStatus.RUNNING for r in runs(engine)), 30, "a running sync"
        )
        time.sleep(0.5)
        daemon.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        assert daemon.wait(timeout=30) == 0, log.read_text()
        assert time.monotonic() - stopped < 10  # it stopped at the page end, not after a timeout
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()

    last = runs(engine)[-1]
    assert last.status == SyncStatus.FAILED
    assert last.error_kind == "SyncCancelled"
    assert last.error_message == "cancelled: shutdown"
    assert current_users(engine, pk) == (dataset, USERS)  # the previous dataset, intact
    schedule = schedules(engine)[pk]
    assert schedule.lease_owner is None
    assert schedule.consecutive_failures == 0
    assert schedule.next_sync_at is not None
    assert schedule.next_sync_at <= utcnow()  # due again at once

    injector.configure("")
    assert _run_once(env, log) == 0, log.read_text()
    final = runs(engine)[-1]
    assert final.status == SyncStatus.COMPLETED
    assert current_users(engine, pk)[1] == USERS  # a delta run (in place) or a full one
    assert "Traceback" not in log.read_text()
    assert key not in log.read_text()
    engine.dispose()


def test_worker_refuses_sqlite(sqlite_url: str, tmp_path: Path) -> None:
    _, key = new_keyring()
    env = process_env(tmp_path / "home", sqlite_url, key)
    result = subprocess.run(
        [sys.executable, "-m", "licensewatch", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "needs PostgreSQL" in result.stderr
    assert "Traceback" not in result.stderr
