"""`python -m benchmarks.profile_fleet [--tenants N] [--users N] [--store sqlite|postgresql]`.

The per-tenant fixed cost of a scheduled sync (W4's shape: many small tenants), in-process and
cProfile'd: N emulated tenants registered through the product's service, then each synced once
by `sync_tenant_once` with the daemon's shared HTTPS connections, one after the other. Prints
client CPU per tenant and the functions that cost most; the `.prof` file stays in `--out`.
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
from licensewatch.sync.scheduler import Outcome, SyncOptions, sync_tenant_once

TOP = 30


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_fleet", description=__doc__)
    parser.add_argument("--tenants", type=int, default=40)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--store", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/profiles"))
    parser.add_argument("--plain", action="store_true", help="no profiler: CPU as it really is")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"fleet-{args.store}-{args.tenants}x{args.users}.prof"
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
            # The first sync pays what a process pays once (imports, TLS context): not profiled.
            first = sync_tenant_once(engine, 1, options, owner="profile", force=True)
            profiler = cProfile.Profile()
            wall, cpu = time.perf_counter(), time.process_time()
            if not args.plain:
                profiler.enable()
            outcomes = [
                sync_tenant_once(engine, pk, options, owner="profile", force=True)
                for pk in range(2, count + 1)
            ]
            profiler.disable()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            http.close()
            engine.dispose()
    if not args.plain:
        profiler.dump_stats(str(target))
        out = io.StringIO()
        stats = pstats.Stats(str(target), stream=out).strip_dirs()
        stats.sort_stats("tottime").print_stats(TOP)
        stats.sort_stats("cumulative").print_stats(TOP)
        print(out.getvalue())
    synced = len(outcomes)
    failed = [o for o in [first, *outcomes] if o.outcome != Outcome.COMPLETED]
    print(
        f"{args.store}: {synced} tenants × {args.users} users after the first: wall "
        f"{wall / synced * 1000:.1f} ms, CPU {cpu / synced * 1000:.1f} ms per tenant "
        f"({'plain' if args.plain else 'profiled'}; {len(failed)} not completed)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
