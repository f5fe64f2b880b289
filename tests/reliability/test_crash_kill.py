"""kill -9 of a syncing process: integrity holds, readers see whole snapshots, next run heals."""

from __future__ import annotations

import importlib.util
import signal
import sys
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Engine

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.sync.runner import run_sync
from reliability_support import Rig, client_factory, register, start_rig

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "crash_series.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_series", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def crash() -> ModuleType:
    return _load()


@pytest.fixture
def rig(make_emulator: EmulatorFactory, tmp_path: Path) -> Rig:
    options = EmulatorOptions(faults="latency=25@/v1.0/users")  # kills land mid-stream
    return start_rig(make_emulator, tmp_path, users=80, seed=31, options=options)


@pytest.mark.slow
def test_kill_9_at_seeded_points(
    crash: ModuleType, rig: Rig, engine: Engine, database_url: str
) -> None:
    tenant_pk = register(engine, rig.tenant)
    assert run_sync(engine, tenant_pk, rig.connection(), client_factory=client_factory()).ok
    # Seeds whose kill points are: page 1, page 4, the last page, the commit (of 11 events).
    seeds = (1, 16, 5, 11)
    outcomes = [crash.crash_once(rig, engine, database_url, tenant_pk, seed) for seed in seeds]
    for outcome in outcomes:
        assert outcome.problems == [], outcome
        assert outcome.observations > 0
    assert any(not o.finished_before_kill for o in outcomes)


def test_a_run_killed_on_this_host_does_not_block_the_next(
    crash: ModuleType, rig: Rig, sqlite_url: str
) -> None:
    from licensewatch.storage.database import make_engine

    engine = make_engine(sqlite_url)
    try:
        tenant_pk = register(engine, rig.tenant)
        process = crash._spawn(rig, sqlite_url, tenant_pk)
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("users 2"):
                break
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
        result = run_sync(engine, tenant_pk, rig.connection(), client_factory=client_factory())
        assert result.ok, result.error_message
    finally:
        engine.dispose()
