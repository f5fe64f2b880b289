"""W1: full sync into SQLite and PostgreSQL against msgraph-sdk and a bare httpx + orjson floor."""

from __future__ import annotations

import importlib.util
from typing import Any

from benchmarks.cli_sync import sync_command
from benchmarks.config import Config
from benchmarks.databases import postgres_database, postgres_problem, sqlite_database
from benchmarks.emulator import EmulatorProcess
from benchmarks.measure import Measured, run_child
from benchmarks.report import Target, Workload

COLUMNS = [
    "users", "variant", "read", "wall s", "CPU s", "users/s", "peak RSS MiB", "× floor wall",
    "× msgraph users/s",
]  # fmt: skip


def _row(size: int, variant: str, measured: Measured) -> dict[str, Any]:
    report = measured.report
    seconds = float(report["seconds"])
    return {
        "users": size,
        "variant": variant,
        "read": report["users"],
        "wall s": seconds,
        "CPU s": float(report["cpu"]),
        "users/s": report["users"] / seconds if seconds else None,
        "peak RSS MiB": measured.peak_rss_mib,
        "process CPU s": measured.process_cpu,
    }


COMMAND = "`licensewatch sync` command → {}"  # start-up, usage reports and read models included


def _sync(spec: dict[str, Any], url: str, config: Config, name: str) -> Measured:
    extra: dict[str, Any] = {}
    if config.profile_dir is not None:
        extra["profile"] = str(config.profile_dir / f"{name}.prof")
    return run_child("sync", {**spec, "db_url": url, **extra})


def run(config: Config) -> Workload:
    work = Workload("W1", "full sync vs msgraph-sdk and the bare fetch floor", columns=COLUMNS)
    pg_problem = postgres_problem()
    has_msgraph = importlib.util.find_spec("msgraph") is not None
    if pg_problem:
        work.notes.append(pg_problem)
    if not has_msgraph:
        work.notes.append("msgraph-sdk not installed (`pip install -e '.[bench]'`): row skipped")
    msgraph_rate: float | None = None
    for size in config.sizes:
        with EmulatorProcess(users=size, seed=config.seed, workdir=config.workdir) as emulator:
            spec = {"connection": emulator.connection_spec()}
            # Twice, the faster one counts: the first pass also warms the emulator up.
            floor = min(
                (run_child("floor", spec) for _ in range(2)), key=lambda m: m.report["seconds"]
            )
            rows = [_row(size, "bare httpx + orjson (no storage)", floor)]
            with sqlite_database(config.workdir) as url:
                rows.append(
                    _row(size, "licensewatch → SQLite", _sync(spec, url, config, f"sqlite-{size}"))
                )
            if not pg_problem:
                with postgres_database() as url:
                    rows.append(
                        _row(
                            size,
                            "licensewatch → PostgreSQL",
                            _sync(spec, url, config, f"pg-{size}"),
                        )
                    )
            with sqlite_database(config.workdir) as url:
                measured = sync_command(spec["connection"], url, config.workdir)
                rows.append(_row(size, COMMAND.format("SQLite"), measured))
            if not pg_problem:
                with postgres_database() as url:
                    measured = sync_command(spec["connection"], url, config.workdir)
                    rows.append(_row(size, COMMAND.format("PostgreSQL"), measured))
            if has_msgraph and msgraph_rate is None:
                cap = min(size, config.msgraph_cap)
                sdk = _row(
                    size,
                    f"msgraph-sdk PageIterator (first {cap:,})",
                    run_child("msgraph", {**spec, "cap": cap}),
                )
                msgraph_rate = sdk["users/s"]
                rows.append(sdk)
        floor_wall = rows[0]["wall s"]
        for row in rows:
            row["× floor wall"] = row["wall s"] / floor_wall if floor_wall else None
            if msgraph_rate:
                row["× msgraph users/s"] = row["users/s"] / msgraph_rate
        work.rows.extend(rows)
    work.targets = _targets(work.rows, config)
    return work


def _targets(rows: list[dict[str, Any]], config: Config) -> list[Target]:
    targets: list[Target] = []
    biggest = max(config.sizes)
    for store in ("SQLite", "PostgreSQL"):
        mine = [r for r in rows if r["variant"] == f"licensewatch → {store}"]
        if not mine:
            continue
        command = [r for r in rows if r["variant"] == COMMAND.format(store)]
        # The peer comparison is the whole command a user runs against the SDK merely reading.
        speedups = [r["× msgraph users/s"] for r in command if r.get("× msgraph users/s")]
        targets.append(
            Target(
                f"{store}: whole command users/s ÷ msgraph-sdk users/s (worst size)",
                min(speedups) if speedups else None,
                100,
                "ge",
            )
        )
        for row in command:
            targets.append(
                Target(
                    f"{store}: whole command wall ÷ bare fetch wall at {row['users']:,}",
                    row["× floor wall"],
                    2.5,
                )
            )
        targets.append(
            Target(
                f"{store}: sync wall ÷ bare fetch wall (worst size)",
                max(r["× floor wall"] for r in mine),
                2.0,
            )
        )
        peak = {r["users"]: r["peak RSS MiB"] for r in mine}
        note = "" if biggest >= 300_000 else f"largest size run: {biggest:,}"
        targets.append(
            Target(f"{store}: peak RSS MiB at {biggest:,} users", peak[biggest], 200, note=note)
        )
        if 100_000 in peak and 300_000 in peak:
            targets.append(
                Target(
                    f"{store}: peak RSS 300k ÷ 100k (nearly flat)",
                    peak[300_000] / peak[100_000],
                    1.2,
                )
            )
    return targets
