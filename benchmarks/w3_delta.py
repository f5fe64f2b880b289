"""W3: delta sync of 100 changes in a small and a large tenant (SQLite and PostgreSQL)."""

from __future__ import annotations

import importlib.util
import inspect
from contextlib import ExitStack
from typing import Any

from benchmarks.config import Config
from benchmarks.databases import postgres_database, postgres_problem, sqlite_database
from benchmarks.emulator import EmulatorProcess
from benchmarks.measure import run_child
from benchmarks.report import Target, Workload

CHANGES = 100
# Rounds of (edits, delta) after the full sync; even rounds (0, 2, …) send their first
# /subscribedSkus right after the edits, odd rounds after a priming request (delta_child._recount).
ROUNDS = 12
COLUMNS = [
    "users",
    "store",
    "edits",
    "licence changes",
    "delta s",
    "SQL s",
    "CPU s",
    "requests",
    "emulator recount s",
    "delta s with recount",
    "full sync s",
    "peak RSS MiB",
]
NOTE = (
    "{rounds} rounds of {changes} edits and a delta sync follow the full sync, as a daemon"
    " meets them. Alternate rounds first prime the emulator's /subscribedSkus consumedUnits"
    " (it once recounted every user after a change, which W3 then measured; it now keeps the"
    " counts from its change log, as Graph keeps them): 'delta s' is the median of those"
    " rounds, 'emulator recount s' what the priming request took, and 'delta s with recount'"
    " the median of the other rounds (round 0 is the single measurement of earlier runs)."
    " 'SQL s' is time in SQL statements (commits"
    " excluded). One child per store syncs both sizes and alternates their rounds, so both"
    " meet the same load; its peak RSS (the larger full sync's) is shown on both rows."
)


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
    rounds = 2 if config.quick else ROUNDS
    for store, database in stores:
        # One child per store takes every size and alternates their rounds, so the sizes meet
        # the same machine load (the ratio is the target). A fresh tenant per store and size:
        # the edits must be new to each database's deltaLink.
        with ExitStack() as stack:
            tenants = []
            for size in _sizes(config):
                emulator = stack.enter_context(
                    EmulatorProcess(users=size, seed=config.seed, workdir=config.workdir)
                )
                url = stack.enter_context(database())
                tenants.append({"connection": emulator.connection_spec(), "db_url": url})
            job = {"tenants": tenants, "changes": CHANGES, "rounds": rounds}
            measured = run_child("delta", job)
        for size, report in zip(_sizes(config), measured.report["tenants"], strict=True):
            work.rows.append(
                {
                    "users": size,
                    "store": store,
                    "edits": CHANGES,
                    "licence changes": report["changes"],
                    "delta s": report["seconds"],
                    "SQL s": report["sql"],
                    "CPU s": report["cpu"],
                    "requests": report["requests"],
                    "emulator recount s": report["recount"] or None,
                    "delta s with recount": report["cold_seconds"],
                    "rounds": report["rounds"],
                    "full sync s": report["full_seconds"],
                    "peak RSS MiB": measured.peak_rss_mib,
                }
            )
    work.targets = _targets(work.rows)
    work.notes.append(NOTE.format(rounds=rounds, changes=CHANGES))
    for row in work.rows:
        each = ", ".join(
            f"{r['seconds']:.3f}" + ("" if r["recount"] is not None else "*") for r in row["rounds"]
        )
        work.notes.append(f"{row['users']:,} {row['store']}: delta s per round {each} (* recount)")
    return work


def _targets(rows: list[dict[str, Any]]) -> list[Target]:
    targets: list[Target] = []
    for store in ("SQLite", "PostgreSQL"):
        mine = {r["users"]: r for r in rows if r["store"] == store}
        if not mine:
            continue
        slowest = max(round_["seconds"] for r in mine.values() for round_ in r["rounds"])
        targets.append(Target(f"{store}: delta sync s (slowest size and round)", slowest, 2.0))
        small, large = min(mine), max(mine)
        if large == small:
            continue
        for column, how in (
            ("delta s", "median"),
            ("delta s with recount", "median, emulator recount included"),
        ):
            ratio = mine[large][column] / mine[small][column]
            name = f"{store}: delta {large:,} ÷ {small:,} users ({how})"
            targets.append(Target(name, ratio, 1.5))
    return targets
