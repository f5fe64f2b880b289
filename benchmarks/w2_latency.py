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
    "read speed-up", "sync speed-up", "same data",
]  # fmt: skip


def run(config: Config) -> Workload:
    work = Workload(
        "W2",
        f"{config.latency_ms} ms per request: sequential vs {config.shards} shards (SQLite)",
        columns=["mode", *COLUMNS],
    )
    latency = config.latency_ms / 1000
    n = config.shards
    # (label, shards, repeat): a repeat full sync splits where the stored users split evenly.
    modes = (("sequential", 1, False), (f"{n} shards", n, False), (f"{n} shards, repeat", n, True))
    speedups: dict[str, list[float]] = {"sync": [], "read": []}
    same_everywhere = True
    for size in config.sizes:
        found: dict[str, dict[str, Any]] = {}
        with EmulatorProcess(
            users=size, latency_ms=config.latency_ms, seed=config.seed, workdir=config.workdir
        ) as emulator:
            spec = {"connection": emulator.connection_spec(), "digest": True}
            for label, shards, repeat in modes:
                with sqlite_database(config.workdir) as url:
                    child = {**spec, "db_url": url, "shards": shards, "repeat": repeat}
                    found[label] = run_child("sync", child).report
        sequential = found["sequential"]
        pages = math.ceil(size / PAGE)
        for label, shards, _ in modes:
            report = found[label]
            same = report["digest"] == sequential["digest"] and report["users"] == size
            floor = math.ceil(pages / shards) * latency
            row = {
                "mode": label,
                "users": size,
                "read": report["users"],
                "pages": report["pages"],
                "user read s": report["users_seconds"],
                "latency floor s": floor,
                "× floor": report["users_seconds"] / floor,
                "sync wall s": report["seconds"],
            }
            if shards > 1:
                same_everywhere = same_everywhere and same
                row["read speed-up"] = sequential["users_seconds"] / report["users_seconds"]
                row["sync speed-up"] = sequential["seconds"] / report["seconds"]
                row["same data"] = same
                speedups["read"].append(row["read speed-up"])
                speedups["sync"].append(row["sync speed-up"])
            work.rows.append(row)
    work.notes.append(
        "latency floor: ⌈pages ÷ shards⌉ × latency for the user read (perfect balance); 'user read "
        "s' is the users phase, 'sync wall s' the whole sync with the inventory, deltaLink and "
        "commit; 'repeat' is a second full sync of the same tenant, split by its stored users"
    )
    work.targets = [
        Target("sharded whole-sync speed-up (worst size)", min(speedups["sync"]), 4.0, "ge"),
        Target("sharded user-read speed-up (worst size)", min(speedups["read"]), 4.0, "ge"),
        Target("stored data identical (1 = yes)", float(same_everywhere), 1.0, "ge"),
    ]
    return work
