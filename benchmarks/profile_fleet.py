"""`python -m benchmarks.profile_fleet [--tenants N] [--users N] [--store sqlite|postgresql]`.

The per-tenant fixed cost of a scheduled sync (W4's shape: many small tenants), in-process and
cProfile'd: N emulated tenants registered through the product's service, then each synced once
by `sync_tenant_once` with the daemon's shared HTTPS connections, one after the other. Prints
client CPU per tenant and the functions that cost most; the `.prof` file stays in `--out`.

`--rounds R` syncs every tenant R times and measures the last round only: R=1 is each tenant's
first sync in the process (what W4 measures), R=2 a daemon's steady state (the tenant synced
before by this process: a delta, its MSAL app reused). `--cpu` times functions by the main
thread's CPU instead of the wall clock (waits for the network or the GIL then cost nothing).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path

from benchmarks import w4_fleet
from benchmarks.databases import postgres_database, sqlite_database
from benchmarks.emulator import EmulatorProcess
from licensewatch.storage.database import make_engine
from licensewatch.sync.http_pool import SharedHttp
from licensewatch.sync.leases import ensure_schedules
from licensewatch.sync.scheduler import Outcome, SyncOptions, TenantOutcome, sync_tenant_once

TOP = 30
# Where a sync's time goes: (label, file name ending, function name), inclusive ("cumulative").
STAGES = (
    ("whole sync (sync_tenant_once)", "scheduler.py", "sync_tenant_once"),
    ("lease claim", "leases.py", "claim"),
    ("tenant + credential read, decrypt", "tenants.py", "connection_for"),
    ("choose full/delta", "runner.py", "choose_kind"),
    ("run record opened", "runner.py", "start_run"),
    ("orphan datasets", "runner.py", "remove_orphans"),
    ("GraphClient built", "http_pool.py", "graph_client"),
    ("MSAL app built (discovery)", "auth.py", "_build_app"),
    ("token (MSAL acquire)", "auth.py", "_acquire"),
    ("full sync (reads, staging, publish)", "full.py", "run"),
    ("  publish transaction", "full.py", "commit"),
    ("delta sync", "delta.py", "run"),
    ("usage reports", "usage.py", "collect_after_sync"),
    ("run record closed", "outcome.py", "collect"),
    ("schedule saved, lease released", "scheduler.py", "_record"),
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_fleet", description=__doc__)
    parser.add_argument("--tenants", type=int, default=40)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--store", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/profiles"))
    parser.add_argument("--plain", action="store_true", help="no profiler: CPU as it really is")
    parser.add_argument("--rounds", type=int, default=1, help="syncs per tenant; the last timed")
    parser.add_argument("--cpu", action="store_true", help="profile by CPU time, not wall time")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"fleet-{args.store}-{args.tenants}x{args.users}-r{args.rounds}.prof"
    with (
        tempfile.TemporaryDirectory(prefix="lw-profile-") as folder,
        EmulatorProcess(users=args.users, tenants=args.tenants, workdir=Path(folder)) as emulator,
    ):
        database: AbstractContextManager[str] = (
            sqlite_database(Path(folder)) if args.store == "sqlite" else postgres_database()
        )
        with database as url:
            engine = make_engine(url)
            keyring, _ = w4_fleet.new_key()
            count = w4_fleet.register(engine, emulator, keyring)
            ensure_schedules(engine)  # what the daemon does at start
            http = SharedHttp(1)
            options = SyncOptions(keyring=keyring, http=http)

            def sync(pk: int) -> TenantOutcome:
                return sync_tenant_once(engine, pk, options, owner="profile", force=True)

            # The first sync pays what a process pays once (imports, TLS context): not profiled.
            earlier = [sync(1)]
            for _ in range(args.rounds - 1):  # the rounds before the timed one
                earlier += [sync(pk) for pk in range(1, count + 1)]
            timed = range(2, count + 1) if args.rounds == 1 else range(1, count + 1)
            profiler = cProfile.Profile(time.thread_time) if args.cpu else cProfile.Profile()
            wall, cpu = time.perf_counter(), time.process_time()
            if not args.plain:
                profiler.enable()
            outcomes = [sync(pk) for pk in timed]
            profiler.disable()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            http.close()
            engine.dispose()
    synced = len(outcomes)
    if not args.plain:
        profiler.dump_stats(str(target))
        print_profile(target, synced)
    failed = [o for o in [*earlier, *outcomes] if o.outcome != Outcome.COMPLETED]
    kinds = sorted({str(o.result.kind) for o in outcomes if o.result is not None})
    print(
        f"{args.store}: {synced} tenants × {args.users} users, round {args.rounds} "
        f"({'/'.join(kinds)}): wall {wall / synced * 1000:.1f} ms, CPU {cpu / synced * 1000:.1f} "
        f"ms per tenant ({'plain' if args.plain else 'profiled'}; {len(failed)} not completed)"
    )
    return 1 if failed else 0


def print_profile(target: Path, synced: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(str(target), stream=out)
    stats.sort_stats("tottime").print_stats(TOP)
    stats.sort_stats("cumulative").print_stats(TOP)
    print(out.getvalue())
    print("stage (inclusive, main thread)          ms per tenant")
    table = stats.stats  # type: ignore[attr-defined]  # pstats keeps it undocumented
    for label, file, function in STAGES:
        found = [row for key, row in table.items() if key[2] == function and key[0].endswith(file)]
        total = sum(row[3] for row in found)
        print(f"{label:<40} {total / synced * 1000:8.2f}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
