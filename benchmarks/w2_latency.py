"""W2: full sync under 300 ms per request, sequential vs shard-parallel user read, same result."""

from __future__ import annotations

import math
from typing import Any

from benchmarks.config import Config
from benchmarks.databases import sqlite_database
from benchmarks.emulator import EmulatorProcess
from benchmarks.measure import run_child
from benchmarks.report import Target, Workload

PAGE = 999
COLUMNS = [
    "users", "read", "pages", "user read s", "latency floor s", "× floor", "sync wall s",
    "speed-up", "same data",
]  # fmt: skip


def run(config: Config) -> Workload:
    work = Workload(
        "W2",
        f"{config.latency_ms} ms per request: sequential vs {config.shards} shards (SQLite)",
        columns=["mode", *COLUMNS],
    )
    latency = config.latency_ms / 1000
    speedups: list[float] = []
    same_everywhere = True
    for size in config.sizes:
        with EmulatorProcess(
            users=size, latency_ms=config.latency_ms, seed=config.seed, workdir=config.workdir
        ) as emulator:
            spec = {"connection": emulator.connection_spec(), "digest": True}
            found: dict[int, dict[str, Any]] = {}
            for shards in (1, config.shards):
                with sqlite_database(config.workdir) as url:
                    found[shards] = run_child(
                        "sync", {**spec, "db_url": url, "shards": shards}
                    ).report
        sequential, sharded = found[1], found[config.shards]
        same = sequential["digest"] == sharded["digest"] and sequential["users"] == size
        same_everywhere = same_everywhere and same
        speedup = sequential["users_seconds"] / sharded["users_seconds"]
        speedups.append(speedup)
        pages = math.ceil(size / PAGE)
        floors = {1: pages * latency, config.shards: math.ceil(pages / config.shards) * latency}
        for shards, report in found.items():
            mode = "sequential" if shards == 1 else f"{shards} shards"
            work.rows.append(
                {
                    "mode": mode,
                    "users": size,
                    "read": report["users"],
                    "pages": report["pages"],
                    "user read s": report["users_seconds"],
                    "latency floor s": floors[shards],
                    "× floor": report["users_seconds"] / floors[shards],
                    "sync wall s": report["seconds"],
                    "speed-up": speedup if shards > 1 else None,
                    "same data": same if shards > 1 else None,
                }
            )
    work.notes.append(
        "latency floor: pages × latency (sequential) and ⌈pages ÷ shards⌉ × latency (sharded, "
        "perfect balance); 'user read s' is the users phase, 'sync wall s' adds the inventory, "
        "deltaLink and commit requests (each also delayed)"
    )
    work.targets = [
        Target("sharded user read speed-up over sequential (worst size)", min(speedups), 4.0, "ge"),
        Target("stored data identical (1 = yes)", float(same_everywhere), 1.0, "ge"),
    ]
    return work
