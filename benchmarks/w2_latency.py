"""W2: full sync under 300 ms per request: sequential vs shards in threads vs shard processes."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.config import Config
from benchmarks.databases import postgres_database, postgres_problem, sqlite_database
from benchmarks.emulator import EmulatorProcess
from benchmarks.measure import run_child
from benchmarks.report import Target, Workload

PAGE = 999
COLUMNS = [
    "users", "read", "user read s", "latency floor s", "× floor", "sync wall s", "CPU s",
    "peak RSS MiB", "read speed-up", "sync speed-up", "same data",
]  # fmt: skip
Mode = tuple[str, int, int, bool]  # label, shards, processes, repeat


def modes(config: Config) -> list[Mode]:
    """Sequential, shards as threads (first and repeat sync), shards in each process count."""
    n = config.shards
    found: list[Mode] = [("sequential", 1, 1, False), (f"{n} shards, threads", n, 1, False)]
    found.append((f"{n} shards, threads, repeat", n, 1, True))
    for processes in config.shard_processes:
        found.append((f"{n} shards, {processes} processes", n, processes, False))
    if config.shard_processes:
        best = config.shard_processes[0]
        found.append((f"{n} shards, {best} processes, repeat", n, best, True))
    return found


@contextmanager
def _database(kind: str, folder: Path) -> Iterator[str]:
    with postgres_database() if kind == "postgresql" else sqlite_database(folder) as url:
        yield url


def run(config: Config) -> Workload:
    work = Workload(
        "W2",
        f"{config.latency_ms} ms per request: sequential vs {config.shards} shards as threads or "
        f"processes ({', '.join(config.w2_databases)}; {config.w2_rounds} alternating rounds)",
        columns=["database", "mode", *COLUMNS],
    )
    latency = config.latency_ms / 1000
    chosen = modes(config)
    speedups: dict[str, list[float]] = {"sync": [], "read": []}
    same_everywhere = True
    kinds = [k for k in config.w2_databases if k != "postgresql" or postgres_problem() is None]
    for size in config.sizes:
        # found[kind][label]: one report per round; each round runs every mode, in turn reversed.
        found: dict[str, dict[str, list[dict[str, Any]]]] = {k: {} for k in kinds}
        with EmulatorProcess(
            users=size, latency_ms=config.latency_ms, seed=config.seed, workdir=config.workdir
        ) as emulator:
            spec = {"connection": emulator.connection_spec(), "digest": True}
            for round_number in range(config.w2_rounds):
                order = chosen if round_number % 2 == 0 else chosen[::-1]
                for kind in kinds if round_number % 2 == 0 else kinds[::-1]:
                    for label, shards, processes, repeat in order:
                        with _database(kind, config.workdir) as url:
                            child = {**spec, "db_url": url, "shards": shards, "repeat": repeat}
                            child["shard_processes"] = processes
                            measured = run_child("sync", child)
                        report = {**measured.report, "rss_mib": measured.peak_rss_mib}
                        found[kind].setdefault(label, []).append(report)
        pages = math.ceil(size / PAGE)
        for kind in kinds:
            sequential = found[kind]["sequential"]
            for label, shards, _, _ in chosen:
                reports = found[kind][label]
                same = all(
                    r["digest"] == sequential[0]["digest"] and r["users"] == size for r in reports
                )
                floor = math.ceil(pages / shards) * latency
                read = statistics.median(r["users_seconds"] for r in reports)
                rss = max(r["rss_mib"] + r.get("shard_rss_kib", 0) / 1024 for r in reports)
                row: dict[str, Any] = {
                    "database": kind,
                    "mode": label,
                    "users": size,
                    "read": reports[0]["users"],
                    "user read s": read,
                    "latency floor s": floor,
                    "× floor": read / floor,
                    "sync wall s": statistics.median(r["seconds"] for r in reports),
                    "CPU s": statistics.median(r["cpu"] for r in reports),
                    "peak RSS MiB": rss,
                }
                if shards > 1:
                    # Ratios within each round (same machine load), then their median.
                    pairs = list(zip(sequential, reports, strict=True))
                    row["read speed-up"] = statistics.median(
                        s["users_seconds"] / r["users_seconds"] for s, r in pairs
                    )
                    row["sync speed-up"] = statistics.median(
                        s["seconds"] / r["seconds"] for s, r in pairs
                    )
                    row["same data"] = same
                    same_everywhere = same_everywhere and same
                    speedups["read"].append(row["read speed-up"])
                    speedups["sync"].append(row["sync speed-up"])
                work.rows.append(row)
    work.notes.append(
        "latency floor: ⌈pages ÷ shards⌉ × latency for the user read (perfect balance); 'user read "
        "s' is the users phase, 'sync wall s' the whole sync with the inventory, deltaLink and "
        "commit; 'repeat' is a second full sync of the same tenant, split by its stored users; "
        "CPU s and peak RSS include the shard processes (RSS: each one's peak, summed with the "
        "parent's); speed-ups are the median over rounds of ratios taken within a round"
    )
    work.targets = [
        Target("best sharded whole-sync speed-up", max(speedups["sync"], default=None), 4.0, "ge"),
        Target("best sharded user-read speed-up", max(speedups["read"], default=None), 4.0, "ge"),
        Target("stored data identical (1 = yes)", float(same_everywhere), 1.0, "ge"),
    ]
    return work
