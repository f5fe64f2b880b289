"""W4: 1,000 tenants × 50 users at 100 ms: `daemon --once`, and 1 vs 3 `worker` processes."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from benchmarks import w4_fleet
from benchmarks.config import Config
from benchmarks.databases import postgres_database, postgres_problem, sqlite_database
from benchmarks.emulator import EmulatorProcess
from benchmarks.report import Target, Workload
from licensewatch.storage.database import make_engine
from licensewatch.sync.worker import prepare_database

USERS = 50
LATENCY_MS = 100
# Overridable without a command-line flag (benchmarks/config.py is shared by every workload).
TENANTS = int(os.environ.get("LICENSEWATCH_BENCH_W4_TENANTS", "1000"))
QUICK_TENANTS = 20
CONCURRENCY = int(os.environ.get("LICENSEWATCH_BENCH_W4_CONCURRENCY", "4"))
COLUMNS = [
    "variant", "processes × concurrency", "completed", "wall s", "sync span s", "tenants/s",
    "requests", "requests/tenant", "floor s", "× floor", "client CPU s", "CPU ms/tenant",
    "emulator CPU s", "machine busy %", "speed-up",
]  # fmt: skip


def _database(store: str, workdir: Path) -> AbstractContextManager[str]:
    return postgres_database() if store == "PostgreSQL" else sqlite_database(workdir)


def _measure(
    emulator: EmulatorProcess,
    config: Config,
    store: str,
    command: tuple[str, ...],
    count: int,
    *,
    workers: bool,
) -> dict[str, Any]:
    """One variant on a fresh database: register, start the CLI processes, time them."""
    tenants = len(emulator.info["tenants"])
    keyring, key = w4_fleet.new_key()
    with (
        _database(store, config.workdir) as url,
        tempfile.TemporaryDirectory(prefix="lw-bench-w4-", dir=config.workdir) as folder,
    ):
        # For workers: what the first worker ever started did once (migrations, queue tables).
        engine = prepare_database(url) if workers else make_engine(url)
        started = time.perf_counter()
        w4_fleet.register(engine, emulator, keyring)
        register_seconds = time.perf_counter() - started
        w4_fleet.emulator_requests(emulator, reset=True)
        processes = w4_fleet.Processes(w4_fleet.cli_env(Path(folder), url, key), Path(folder))
        assert emulator.process is not None
        emulator_cpu, machine = w4_fleet.process_cpu(emulator.process.pid), w4_fleet.machine_cpu()
        started = time.perf_counter()
        for _ in range(count):
            processes.start(*command)
        if workers:
            done = w4_fleet.wait_until_completed(engine, tenants, processes, _timeout(tenants))
            wall = time.perf_counter() - started
            processes.stop()
        else:
            processes.wait()
            wall = time.perf_counter() - started
            done = True
        emulator_after, machine_after = (
            w4_fleet.process_cpu(emulator.process.pid),
            w4_fleet.machine_cpu(),
        )
        counts = w4_fleet.emulator_requests(emulator)
        stats = w4_fleet.run_stats(engine)
        completed = w4_fleet.completed_tenants(engine)
        engine.dispose()
    if not done or processes.failed:
        raise RuntimeError(f"{store} variant did not finish: {processes.failed or 'timed out'}")
    return {
        "tenants": tenants,
        "completed": completed,
        "wall": wall,
        "cpu": processes.cpu,
        "register": register_seconds,
        "requests": counts,
        "emulator_cpu": _delta(emulator_cpu, emulator_after),
        "machine_busy": _busy(machine, machine_after),
        **stats,
    }


def _delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def _busy(before: tuple[float, float] | None, after: tuple[float, float] | None) -> float | None:
    """Share of the machine's CPU time that was busy (any process, other users' too)."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def _timeout(tenants: int) -> float:
    # Ten times the single-worker floor (≈ 8 requests per tenant), at least five minutes.
    return max(300.0, 10 * tenants * 8 * LATENCY_MS / 1000 / CONCURRENCY)


def _row(name: str, processes: int, measured: dict[str, Any]) -> dict[str, Any]:
    tenants, wall, busy = measured["tenants"], measured["wall"], measured["machine_busy"]
    requests = int(measured["requests"]["total"])
    floor = requests * LATENCY_MS / 1000 / (processes * CONCURRENCY)
    return {
        "variant": name,
        "processes × concurrency": f"{processes} × {CONCURRENCY}",
        "completed": measured["completed"],
        "wall s": wall,
        "sync span s": measured["span"],
        "tenants/s": tenants / wall,
        "requests": requests,
        "requests/tenant": requests / tenants,
        "floor s": floor,
        "× floor": wall / floor if floor else None,
        "client CPU s": measured["cpu"],
        "CPU ms/tenant": measured["cpu"] / tenants * 1000,
        "emulator CPU s": measured["emulator_cpu"],
        "machine busy %": None if busy is None else busy * 100,
    }


def _variants(has_postgres: bool, quick: bool) -> Iterator[tuple[str, str, int, bool]]:
    """(name, store, processes, workers?) in the order they run (--quick: SQLite only without
    PostgreSQL, the daemon's code path being the same on both)."""
    if has_postgres:
        yield "daemon --once → PostgreSQL", "PostgreSQL", 1, False
    if not (quick and has_postgres):
        yield "daemon --once → SQLite", "SQLite", 1, False
    if has_postgres:
        yield "1 worker → PostgreSQL", "PostgreSQL", 1, True
        yield "3 workers → PostgreSQL", "PostgreSQL", 3, True


def run(config: Config) -> Workload:
    tenants = QUICK_TENANTS if config.quick else TENANTS
    work = Workload(
        "W4",
        f"{tenants:,} tenants × {USERS} users at {LATENCY_MS} ms: daemon, 1 vs 3 workers",
        columns=COLUMNS,
    )
    pg_problem = postgres_problem()
    if pg_problem:
        work.notes.append(f"{pg_problem}: the worker variants need it")
    measured: dict[str, dict[str, Any]] = {}
    with EmulatorProcess(
        users=USERS,
        tenants=tenants,
        latency_ms=LATENCY_MS,
        seed=config.seed,
        scenario="msp",
        workdir=config.workdir,
    ) as emulator:
        for name, store, processes, workers in _variants(pg_problem is None, config.quick):
            command: tuple[str, ...] = ("worker",) if workers else ("daemon", "--once")
            command += ("--concurrency", str(CONCURRENCY), "--metrics-port", "-1")
            try:
                measured[name] = _measure(
                    emulator, config, store, command, processes, workers=workers
                )
            except Exception as exc:  # one broken variant must not lose the others' figures
                work.notes.append(f"{name} failed: {type(exc).__name__}: {str(exc)[:300]}")
                continue
            work.rows.append(_row(name, processes, measured[name]))
            print(f"W4 {name}: {work.rows[-1]}", file=sys.stderr, flush=True)
    _finish(work, measured)
    return work


def _finish(work: Workload, measured: dict[str, dict[str, Any]]) -> None:
    one, three = measured.get("1 worker → PostgreSQL"), measured.get("3 workers → PostgreSQL")
    speedup = one["wall"] / three["wall"] if one and three else None
    for row in work.rows:
        if row["variant"].startswith("3 workers"):
            row["speed-up"] = speedup
    if not measured:
        raise RuntimeError("every W4 variant failed: " + "; ".join(work.notes))
    first = next(iter(measured.values()))
    work.notes.append(
        f"floor = requests counted by the emulator (token, OpenID discovery and Graph) × "
        f"{LATENCY_MS} ms ÷ (processes × concurrency); wall runs from spawning the CLI "
        "processes (interpreter start-up included) to the daemon's exit, or for workers until "
        "every tenant has a COMPLETED run; 'sync span' is first run start to last run end"
    )
    work.notes.append(
        f"each variant on a fresh database; registering {first['tenants']:,} tenants through "
        f"TenantService.add took {first['register']:.1f} s (not in the wall); workers enqueue "
        "due tenants at start-up (`--enqueue-at-start`, the default)"
    )
    work.notes.append(
        "client CPU: every licensewatch process of the variant (os.wait4); emulator CPU: the "
        "emulator process meanwhile; machine busy: all CPU time used on the machine (PostgreSQL "
        "and any other work included) ÷ cores × wall: near 100 % the variant was CPU-bound, "
        "not latency-bound"
    )
    work.targets = [
        Target(f"{row['variant']}: wall ÷ concurrency floor", row["× floor"], 2.0)
        for row in work.rows
    ]
    work.targets.append(Target("3 workers ÷ 1 worker speed-up (wall)", speedup, 2.5, "ge"))
