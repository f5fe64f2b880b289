"""`licensewatch enqueue [--all]` and workers enqueuing due tenants at start, on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_fleet import new_keyring, onboard, process_env, runs, spawn, wait_for
from sqlalchemy import Engine, text

from emulator_fixtures import EmulatorFactory
from licensewatch.storage.models import SyncStatus
from licensewatch.sync.worker import prepare_database

# Once a year: any sync within these tests was enqueued by `enqueue` or at start, not by the cron.
NEVER = "0 0 1 1 *"
WORKER = ("worker", "--concurrency", "2", "--schedule-cron", NEVER, "--metrics-port", "-1")


def enqueue(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "licensewatch", "enqueue", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def queued(engine: Engine) -> list[str]:
    statement = text(
        "SELECT queueing_lock FROM procrastinate_jobs WHERE status = 'todo' ORDER BY id"
    )
    with engine.connect() as db:
        return [str(lock) for lock in db.scalars(statement)]


def completed(engine: Engine) -> set[int]:
    return {r.tenant_id for r in runs(engine) if r.status == SyncStatus.COMPLETED}


@pytest.fixture
def queue_engine(postgres_url: str) -> Iterator[Engine]:
    """The database as a worker prepares it: licensewatch's schema and the queue tables."""
    engine = prepare_database(postgres_url)
    yield engine
    engine.dispose()


def stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.terminate()
    code = worker.wait(60)
    assert code == 0, f"the worker exited {code}"


@pytest.mark.postgres
def test_enqueue_command_feeds_workers_at_once(
    make_emulator: EmulatorFactory, queue_engine: Engine, postgres_url: str, tmp_path: Path
) -> None:
    emulator = make_emulator(tenants=4, users=10, scenario="msp", seed=8)
    engine = queue_engine
    keyring, key = new_keyring()
    tenants = onboard(engine, emulator, keyring)
    env = process_env(tmp_path / "home", postgres_url, key)

    assert "enqueued 4 tenant sync(s)" in enqueue(env)
    assert sorted(queued(engine)) == sorted(f"sync:{pk}" for pk in tenants.values())
    assert "enqueued 0 tenant sync(s)" in enqueue(env)  # one waiting job per tenant

    worker = spawn(env, tmp_path / "worker.log", *WORKER, "--no-enqueue-at-start")
    try:
        wait_for(lambda: completed(engine) == set(tenants.values()), 90, "the enqueued syncs")
    finally:
        stop(worker)
    assert queued(engine) == []
    # Synced: nothing is due until the interval has passed, unless --all says so.
    assert "enqueued 0 tenant sync(s)" in enqueue(env)
    assert "enqueued 4 tenant sync(s)" in enqueue(env, "--all")


@pytest.mark.postgres
def test_worker_enqueues_due_tenants_when_it_starts(
    make_emulator: EmulatorFactory, queue_engine: Engine, postgres_url: str, tmp_path: Path
) -> None:
    emulator = make_emulator(tenants=3, users=10, scenario="msp", seed=9)
    engine = queue_engine
    keyring, key = new_keyring()
    tenants = onboard(engine, emulator, keyring)
    env = process_env(tmp_path / "home", postgres_url, key)

    idle = spawn(env, tmp_path / "idle.log", *WORKER, "--no-enqueue-at-start")
    try:

        def registered() -> bool:
            with engine.connect() as db:
                return bool(db.scalar(text("SELECT count(*) FROM procrastinate_workers")))

        wait_for(registered, 60, "the worker to register")
        time.sleep(2)
        assert runs(engine) == []  # without the start-up enqueue it waits for the cron
    finally:
        stop(idle)

    started = time.monotonic()
    worker = spawn(env, tmp_path / "worker.log", *WORKER)
    try:
        wait_for(lambda: completed(engine) == set(tenants.values()), 90, "the start-up syncs")
    finally:
        stop(worker)
    assert time.monotonic() - started < 60  # well before a cron tick could have fired


def test_enqueue_needs_postgresql(tmp_path: Path) -> None:
    _, key = new_keyring()
    env = process_env(tmp_path / "home", f"sqlite:///{tmp_path / 'lw.db'}", key)
    result = subprocess.run(
        [sys.executable, "-m", "licensewatch", "enqueue"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr
