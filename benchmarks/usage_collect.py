"""`python -m benchmarks.usage_collect [--sizes 50,100000] [--store sqlite,postgresql]`.

The usage step alone (issue 13): one emulator per size, then per size and store a measured child
that registers the tenant and runs `collect_usage` (report settings, the three report downloads,
parse, store) on a fresh database. Prints the step's CPU and wall time, the stored rows and the
child's peak RSS (VmHWM) beside its RSS before the step (interpreter, imports, engine).
`--repeat N` runs the step N times in the child and reports the fastest (the first pays for
imports and statement compilation, which a daemon pays once).
"""

from __future__ import annotations

import argparse
import cProfile
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.databases import postgres_database, sqlite_database
from benchmarks.emulator import EmulatorProcess
from benchmarks.measure import run_child


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def usage(spec: dict[str, Any]) -> dict[str, Any]:
    """Child side: register the tenant, collect its usage reports `repeat` times, time each."""
    from benchmarks.syncer import connection_from, register
    from licensewatch.domain.usage import Period
    from licensewatch.graph.client import GraphClient
    from licensewatch.storage.database import make_engine
    from licensewatch.sync.usage import collect_usage

    engine = make_engine(spec["db_url"])
    tenant_pk = register(engine, spec["connection"])
    runs: list[dict[str, Any]] = []
    before = _rss_kib()
    with GraphClient(connection_from(spec["connection"])) as client:
        client.token()  # the token is the sync's, not the usage step's
        for attempt in range(int(spec.get("repeat", 1))):
            last = attempt == int(spec.get("repeat", 1)) - 1
            profile: str | None = spec.get("profile") if last else None
            profiler = cProfile.Profile() if profile else None
            wall, cpu = time.perf_counter(), time.process_time()
            if profiler is not None:
                profiler.enable()
            outcome = collect_usage(engine, tenant_pk, client, Period.D90)
            if profiler is not None and profile is not None:
                profiler.disable()
                profiler.dump_stats(profile)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if outcome.status != "ok":
                raise RuntimeError(f"usage collection {outcome.status}: {outcome.message}")
            runs.append({"wall": wall, "cpu": cpu, "rows": outcome.users})
    engine.dispose()
    best = min(runs, key=lambda run: run["cpu"])
    return {**best, "first_cpu": runs[0]["cpu"], "rss_before_kib": before}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.usage_collect", description=__doc__)
    parser.add_argument("--sizes", default="50,100000", help="users, comma-separated")
    parser.add_argument("--store", default="sqlite", help="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=3, help="collections per child (fastest)")
    parser.add_argument("--profile-dir", type=Path, help="cProfile the last collection here")
    args = parser.parse_args(argv)
    print("| users | store | CPU s (fastest) | CPU s (first) | wall s | rows |", end="")
    print(" RSS before MiB | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="lw-bench-usage-") as folder:
        for users in (int(s) for s in args.sizes.split(",") if s.strip()):
            with EmulatorProcess(users=users, workdir=Path(folder)) as emulator:
                for store in (s.strip() for s in args.store.split(",") if s.strip()):
                    database = (
                        postgres_database()
                        if store == "postgresql"
                        else sqlite_database(Path(folder))
                    )
                    with database as url:
                        spec: dict[str, Any] = {
                            "connection": emulator.connection_spec(),
                            "db_url": url,
                            "repeat": args.repeat,
                        }
                        if args.profile_dir:
                            args.profile_dir.mkdir(parents=True, exist_ok=True)
                            spec["profile"] = str(args.profile_dir / f"usage-{users}-{store}.prof")
                        measured = run_child("usage", spec)
                    r = measured.report
                    print(
                        f"| {users:,} | {store} | {r['cpu']:.3f} | {r['first_cpu']:.3f} | "
                        f"{r['wall']:.3f} | {r['rows']:,} | {r['rss_before_kib'] / 1024:.1f} | "
                        f"{measured.peak_rss_mib:.1f} |",
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
