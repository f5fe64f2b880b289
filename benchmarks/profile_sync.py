"""`python -m benchmarks.profile_sync [--users N] [--store sqlite,postgresql] [--out DIR]`.

One emulator process, the bare fetch floor, then a cProfile'd full sync per store, each in its own
child (as W1 measures them): prints client CPU per user for both, the sync's ratio to the floor,
and the functions that cost most (own time and cumulative). The `.prof` files stay in `--out`
for `python -m pstats` or snakeviz. `make profile` runs it at 50,000 users.
"""

from __future__ import annotations

import argparse
import io
import pstats
import sys
import tempfile
from contextlib import AbstractContextManager
from pathlib import Path

from benchmarks.databases import postgres_database, postgres_problem, sqlite_database
from benchmarks.emulator import EmulatorProcess
from benchmarks.measure import Measured, run_child

TOP = 25


def _line(name: str, measured: Measured, floor: Measured | None) -> str:
    report = measured.report
    users = max(int(report["users"]), 1)
    cpu_us = float(report["cpu"]) / users * 1e6
    ratio = ""
    if floor is not None:
        ratio = f"  × floor wall {float(report['seconds']) / float(floor.report['seconds']):.2f}"
    return (
        f"{name:<12} users {users:>8,}  wall {float(report['seconds']):7.2f} s  "
        f"CPU {float(report['cpu']):7.2f} s ({cpu_us:5.1f} µs/user)  "
        f"peak RSS {measured.peak_rss_mib:6.1f} MiB{ratio}"
    )


def _top(path: Path) -> str:
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(TOP)
    stats.sort_stats("cumulative").print_stats(TOP)
    return out.getvalue()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_sync", description=__doc__)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--store", default="sqlite,postgresql", help="sqlite, postgresql or both")
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--repeat", action="store_true", help="profile a second full sync")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/profiles"))
    parser.add_argument("--quiet", action="store_true", help="only the summary lines")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    stores = [s.strip() for s in args.store.split(",") if s.strip()]
    if "postgresql" in stores and (problem := postgres_problem()):
        print(f"skipping PostgreSQL: {problem}")
        stores.remove("postgresql")
    with (
        tempfile.TemporaryDirectory(prefix="lw-profile-") as folder,
        EmulatorProcess(users=args.users, workdir=Path(folder)) as emulator,
    ):
        spec = {"connection": emulator.connection_spec()}
        run_child("floor", spec)  # warms the emulator up
        floor = run_child("floor", spec)
        lines = [_line("floor", floor, None)]
        for store in stores:

            def database(store: str = store) -> AbstractContextManager[str]:
                return sqlite_database(Path(folder)) if store == "sqlite" else postgres_database()

            target = args.out / f"sync-{store}-{args.users}.prof"
            with database() as url:
                child = {**spec, "db_url": url, "profile": str(target), "shards": args.shards}
                child["repeat"] = args.repeat
                run_child("sync", child)
            # Unprofiled too: cProfile's own overhead inflates the CPU of small calls.
            with database() as url:
                plain = run_child(
                    "sync", {**spec, "db_url": url, "shards": args.shards, "repeat": args.repeat}
                )
            lines.append(_line(store, plain, floor))
            if not args.quiet:
                print(f"## {store}: {target}\n{_top(target)}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
