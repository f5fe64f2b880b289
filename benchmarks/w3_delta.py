"""W3: delta sync of 100 changes in a small and a large tenant (SQLite and PostgreSQL)."""

from __future__ import annotations

import importlib.util
import inspect
from contextlib import AbstractContextManager
from typing import Any

from benchmarks.config import Config
from benchmarks.databases import postgres_database, postgres_problem, sqlite_database
from benchmarks.emulator import EmulatorProcess
from benchmarks.measure import run_child
from benchmarks.report import Target, Workload

CHANGES = 100
COLUMNS = [
    "users",
    "store",
    "edits",
    "licence changes",
    "delta s",
    "CPU s",
    "requests",
    "full sync s",
    "peak RSS MiB",
]


def unavailable() -> str | None:
    """Why delta sync cannot be measured yet (None once `run_sync(mode="delta")` exists)."""
    if importlib.util.find_spec("licensewatch.sync.delta") is None:
        return "licensewatch.sync.delta does not exist yet"
    from licensewatch.sync.runner import run_sync

    if "mode" not in inspect.signature(run_sync).parameters:
        return 'run_sync(..., mode="delta") is not there yet'
    return None


def _sizes(config: Config) -> tuple[int, ...]:
    return (min(config.sizes),) if config.quick else (10_000, max(config.sizes))


def run(config: Config) -> Workload:
    work = Workload("W3", f"delta sync of {CHANGES} changes", columns=COLUMNS)
    reason = unavailable()
    if reason:
        work.status, work.reason = "not available", reason
        return work
    pg_problem = postgres_problem()
    stores: list[tuple[str, Any]] = [("SQLite", lambda: sqlite_database(config.workdir))]
    if pg_problem:
        work.notes.append(pg_problem)
    else:
        stores.append(("PostgreSQL", postgres_database))
    for size in _sizes(config):
        for store, database in stores:
            # A fresh tenant per store: the edits must be new to each database's deltaLink.
            with EmulatorProcess(users=size, seed=config.seed, workdir=config.workdir) as emulator:
                opened: AbstractContextManager[str] = database()
                with opened as url:
                    spec = {"connection": emulator.connection_spec(), "db_url": url}
                    measured = run_child("delta", {**spec, "changes": CHANGES})
            report = measured.report
            work.rows.append(
                {
                    "users": size,
                    "store": store,
                    "edits": CHANGES,
                    "licence changes": report["changes"],
                    "delta s": report["seconds"],
                    "CPU s": report["cpu"],
                    "requests": report["requests"],
                    "full sync s": report["full_seconds"],
                    "peak RSS MiB": measured.peak_rss_mib,
                }
            )
    work.targets = _targets(work.rows)
    return work


def _targets(rows: list[dict[str, Any]]) -> list[Target]:
    targets: list[Target] = []
    for store in ("SQLite", "PostgreSQL"):
        mine = {r["users"]: r["delta s"] for r in rows if r["store"] == store}
        if not mine:
            continue
        small, large = min(mine), max(mine)
        targets.append(Target(f"{store}: delta sync s (slowest size)", max(mine.values()), 2.0))
        if large > small:
            ratio = mine[large] / mine[small]
            targets.append(Target(f"{store}: delta {large:,} ÷ {small:,} users", ratio, 1.5))
    return targets
