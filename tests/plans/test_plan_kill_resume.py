"""kill -9 of `licensewatch plan apply` at seeded points, then apply again: exactly once each."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from plan_world import STANDARD, PlanWorld, start_world
from sqlalchemy import Engine, select

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.faults import FaultInjector
from licensewatch.storage.database import make_engine, session_scope
from licensewatch.storage.models.plans import ChangePlanLine

LATENCY = 0.4  # seconds before each Graph /users answer: a kill lands inside a call
# (line position, state that triggers the kill): inside a call, between calls, the first call.
KILL_POINTS = ((2, "sending"), (3, "applied"), (1, "sending"))


def _state(engine: Engine, plan_id: int, position: int) -> str | None:
    with session_scope(engine, write=False) as session:
        state: str | None = session.scalar(
            select(ChangePlanLine.state).where(
                ChangePlanLine.plan_id == plan_id, ChangePlanLine.position == position
            )
        )
        return state


def _apply_and_kill(engine: Engine, plan_id: int, position: int, state: str) -> bool:
    """Run `plan apply` in a process, SIGKILL it when the line reaches the state; killed?"""
    command = [sys.executable, "-m", "licensewatch", "plan", "apply", str(plan_id)]
    process = subprocess.Popen(
        command, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if _state(engine, plan_id, position) == state:
                process.send_signal(signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.005)
        return False
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _writes(world: PlanWorld) -> dict[str, int]:
    return dict(world.tenant.licence_writes)


@pytest.mark.slow
def test_kill_9_during_apply_then_resume_exactly(
    make_emulator: EmulatorFactory,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = start_world(make_emulator, database_url, tmp_path, monkeypatch)
    world.grant_writes()
    world.onboard()
    world.ok("tenant", "update", "office", "--allow-writes")
    holders = world.direct_holders(STANDARD)
    injector: FaultInjector = world.emulator.app.state.injector  # type: ignore[attr-defined]
    injector.configure(f"latency={int(LATENCY * 1000)}@/v1.0/users/")
    engine = make_engine(database_url)
    try:
        for number, (position, state) in enumerate(KILL_POINTS):
            people = holders[number * 4 : number * 4 + 4]
            users = world.users_file(people)
            create = ("--tenant", "office", "--remove", STANDARD)
            plan_id = world.create(*create, "--users", str(users))
            world.ok("plan", "approve", str(plan_id))
            assert _apply_and_kill(engine, plan_id, position, state), (position, state)
            time.sleep(LATENCY * 2)  # let a call that reached the emulator finish there
            world.ok("plan", "apply", str(plan_id))
            plan = world.plan(plan_id)
            assert [line["state"] for line in plan["lines"]] == ["confirmed"] * 4, plan
            ids = {world.tenant.user(upn).id for upn in people}  # type: ignore[union-attr]
            # Nothing applied twice, nothing skipped: one successful call per user.
            assert {uid: n for uid, n in _writes(world).items() if uid in ids} == dict.fromkeys(
                ids, 1
            )
            assert all(world.holds(upn, STANDARD) is None for upn in people)
    finally:
        engine.dispose()
