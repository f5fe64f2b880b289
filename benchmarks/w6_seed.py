"""W6: how long the emulator takes to build a world (CPU time), moved here from the test suite.

A CPU-time limit inside the correctness suite failed under coverage on a loaded machine; here it is
a target that a run reports, next to the machine's load.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.config import Config
from benchmarks.report import Target, Workload
from licensewatch.emulator.seed import build_world

# (users, scenario, CPU-seconds target)
SIZES = ((20_000, "messy", 5.0), (300_000, "enterprise", 20.0))
QUICK = ((2_000, "messy", 5.0),)
COLUMNS = ["users", "scenario", "CPU s", "wall s", "consumed units"]


def run(config: Config) -> Workload:
    work = Workload("W6", "emulator world building (build_world)", columns=COLUMNS)
    with tempfile.TemporaryDirectory(prefix="lw-bench-seed-", dir=config.workdir) as folder:
        for users, scenario, limit in QUICK if config.quick else SIZES:
            cpu, wall = time.process_time(), time.perf_counter()
            world = build_world(users=users, seed=9, scenario=scenario, cert_dir=Path(folder))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            tenant = next(iter(world.tenants.values()))
            if tenant.user_count() != users:
                raise AssertionError(f"built {tenant.user_count()} users, not {users}")
            consumed = sum(tenant.consumed_units().values())
            work.rows.append(
                {
                    "users": users,
                    "scenario": scenario,
                    "CPU s": cpu,
                    "wall s": wall,
                    "consumed units": consumed,
                }
            )
            work.targets.append(Target(f"{users:,} users built, CPU s", cpu, limit))
    return work
