"""Three `licensewatch worker` processes on one PostgreSQL; one is SIGKILLed mid-sync."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
from collections import Counter
from pathlib import Path

import pytest
from daemon_fleet import (
    assert_no_overlap,
    current_users,
    fleet_state,
    new_keyring,
    onboard,
    process_env,
    runs,
    schedules,
    spawn,
    status_json,
    wait_for,
)
from sqlalchemy import Engine, text

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.storage.models import SyncStatus
from licensewatch.sync.worker import prepare_database

TENANTS = 9
USERS = 30
# A worker's heartbeat is late by seconds on a loaded CI machine: stalled after 8 s keeps a live
# worker's job from being rescued (and run twice) while still leaving the kill's rescue quick.
WORKER_ARGS = (
    "worker", "--concurrency", "2", "--schedule-cron", "* * * * * */2",
    "--stalled-after", "8", "--heartbeat-interval", "1", "--metrics-port", "-1",
)  # fmt: skip


@pytest.mark.postgres
def test_three_workers_survive_a_sigkill(
    make_emulator: EmulatorFactory, postgres_url: str, postgres_engine: Engine, tmp_path: Path
) -> None:
    # ~0.4 s per request: a sync takes a few seconds, long enough to be killed in the middle.
    emulator = make_emulator(
        tenants=TENANTS,
        users=USERS,
        scenario="msp",
        seed=4,
        options=EmulatorOptions(latency_ms=400),
    )
    engine = postgres_engine
    keyring, key = new_keyring()
    tenants = onboard(engine, emulator, keyring)
    env = process_env(tmp_path / "home", postgres_url, key)
    workers: list[subprocess.Popen[bytes]] = []
    logs = [tmp_path / f"worker{i}.log" for i in range(3)]
    try:
        for log in logs:
            workers.append(spawn(env, log, *WORKER_ARGS))
        victim = workers[0]
        victim_name = f"{socket.gethostname()}:{victim.pid}"

        def victim_is_syncing() -> bool:
            return any(
                r.status == SyncStatus.RUNNING and r.worker == victim_name for r in runs(engine)
            )

        wait_for(victim_is_syncing, 60, "worker 0 to start a sync", step=0.1)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        killed_tenant = next(
            r.tenant_id for r in runs(engine) if r.worker == victim_name and r.status == "RUNNING"
        )

        def all_synced() -> bool:
            done = {r.tenant_id for r in runs(engine) if r.status == SyncStatus.COMPLETED}
            return done == set(tenants.values())

        wait_for(
            all_synced,
            120,
            "every tenant synced",
            step=0.5,
            explain=lambda: fleet_state(engine, logs),
        )
        for index, log in enumerate(logs[1:], start=1):
            assert workers[index].poll() is None, log.read_text()
    finally:
        for process in workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in workers:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    assert [w.returncode for w in workers[1:]] == [0, 0]  # graceful stop
    all_runs = runs(engine)
    completed = Counter(r.tenant_id for r in all_runs if r.status == SyncStatus.COMPLETED)
    assert completed == Counter(set(tenants.values()))  # each exactly once: no pile-up
    assert_no_overlap(all_runs)
    killed = [r for r in all_runs if r.worker == victim_name and r.tenant_id == killed_tenant]
    assert [r.status for r in killed] == [SyncStatus.FAILED]
    assert killed[0].error_kind == "abandoned"
    for pk in tenants.values():
        assert current_users(engine, pk)[1] == USERS
    assert all(s.lease_owner is None for s in schedules(engine).values())
    with engine.connect() as db:
        job = db.execute(
            text(
                "SELECT id, status, attempts FROM procrastinate_jobs "
                "WHERE task_name = 'licensewatch.sync_tenant' AND (args->>'tenant_pk')::int = :pk"
            ),
            {"pk": killed_tenant},
        ).one()
        events = db.scalars(
            text("SELECT type FROM procrastinate_events WHERE job_id = :id ORDER BY id"),
            {"id": job.id},
        ).all()
    # The killed worker's job was put back by the stalled-job rescue and then succeeded.
    assert job.status == "succeeded"
    assert job.attempts >= 1
    assert "deferred_for_retry" in events
    assert [row["failing"] for row in status_json(env)] == [False] * TENANTS


@pytest.mark.postgres
def test_workers_starting_together_prepare_the_database_once(postgres_url: str) -> None:
    engines: list[Engine] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            engines.append(prepare_database(postgres_url))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with engines[0].connect() as db:
        assert db.scalar(text("SELECT count(*) FROM procrastinate_jobs")) == 0
        assert db.scalar(text("SELECT count(*) FROM tenant_schedules")) == 0
    for engine in engines:
        engine.dispose()


@pytest.mark.postgres
def test_worker_sigterm_stops_a_sync_at_its_page_end(
    make_emulator: EmulatorFactory, postgres_url: str, postgres_engine: Engine, tmp_path: Path
) -> None:
    emulator = make_emulator(users=USERS, seed=6, options=EmulatorOptions(latency_ms=700))
    engine = postgres_engine
    keyring, key = new_keyring()
    (pk,) = onboard(engine, emulator, keyring).values()
    env = process_env(tmp_path / "home", postgres_url, key)
    log = tmp_path / "worker.log"
    worker = spawn(env, log, *WORKER_ARGS)
    try:
        wait_for(lambda: any(r.status == "RUNNING" for r in runs(engine)), 60, "a running sync")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    (run,) = runs(engine)
    assert run.status == SyncStatus.FAILED
    assert run.error_message == "cancelled: shutdown"
    schedule = schedules(engine)[pk]
    assert schedule.lease_owner is None
    assert schedule.consecutive_failures == 0
    assert current_users(engine, pk) == (None, 0)
