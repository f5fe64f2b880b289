"""`python -m benchmarks [--quick] [--only W1,W2] [--sizes …] [--json out.json]`."""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from benchmarks import machine, w1_full, w2_latency, w3_delta, w4_daemon, w5_web, w6_seed
from benchmarks.config import QUICK_SIZES, Config
from benchmarks.report import Workload, markdown, write_json

WORKLOADS: dict[str, Callable[[Config], Workload]] = {
    "W1": w1_full.run,
    "W2": w2_latency.run,
    "W3": w3_delta.run,
    "W4": w4_daemon.run,
    "W5": w5_web.run,
    "W6": w6_seed.run,
}


def parse(argv: list[str]) -> tuple[Config, list[str], Path | None]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: the harness works")
    parser.add_argument("--only", default="", help="comma-separated workloads, e.g. W1,W2")
    parser.add_argument("--sizes", default="", help="users per tenant, e.g. 10000,100000,300000")
    parser.add_argument("--json", type=Path, default=None, help="where to write the JSON")
    parser.add_argument("--msgraph-cap", type=int, default=None, help="users msgraph-sdk reads")
    parser.add_argument("--latency-ms", type=int, default=300, help="W2's delay per request")
    parser.add_argument("--shards", type=int, default=8, help="W2's shard count")
    parser.add_argument("--shard-processes", default="2,4", help="W2's process counts")
    parser.add_argument("--w2-databases", default="sqlite,postgresql", help="W2's databases")
    parser.add_argument("--w2-rounds", type=int, default=2, help="W2's alternating rounds")
    parser.add_argument("--profile-dir", type=Path, default=None, help="cProfile W1's syncs")
    parser.add_argument("--w5-sizes", default="300000,1000000", help="W5's tenant sizes")
    parser.add_argument("--w5-databases", default="sqlite,postgresql", help="W5's databases")
    parser.add_argument("--w5-workers", type=int, default=None, help="W5's serve --workers")
    args = parser.parse_args(argv)
    config = Config(
        latency_ms=args.latency_ms,
        shards=args.shards,
        shard_processes=tuple(int(s) for s in args.shard_processes.split(",") if s.strip()),
        w2_databases=tuple(d.strip() for d in args.w2_databases.split(",") if d.strip()),
        w2_rounds=args.w2_rounds,
        profile_dir=args.profile_dir,
        web_sizes=tuple(int(s) for s in args.w5_sizes.split(",") if s.strip()),
        web_databases=tuple(d.strip() for d in args.w5_databases.split(",") if d.strip()),
        web_workers=args.w5_workers,
    )
    if args.quick:
        config = replace(config, quick=True, sizes=QUICK_SIZES, msgraph_cap=999)
    if args.sizes:
        config = replace(config, sizes=tuple(int(s) for s in args.sizes.split(",") if s.strip()))
    if args.msgraph_cap:
        config = replace(config, msgraph_cap=args.msgraph_cap)
    chosen = [w.strip().upper() for w in args.only.split(",") if w.strip()] or list(WORKLOADS)
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workloads: {', '.join(unknown)}")
    return config, chosen, args.json


def run_one(key: str, config: Config) -> Workload:
    started = time.perf_counter()
    with machine.LoadSampler() as load:
        try:
            work = WORKLOADS[key](config)
        except Exception as exc:  # one broken workload must not hide the others' figures
            traceback.print_exc()
            work = Workload(key, "failed", status="failed", reason=f"{type(exc).__name__}: {exc}")
    work.load = load.summary()
    work.seconds = time.perf_counter() - started
    return work


def main(argv: list[str]) -> int:
    config, chosen, json_path = parse(argv)
    with tempfile.TemporaryDirectory(prefix="lw-bench-") as folder:
        config = replace(config, workdir=Path(folder))
        if config.profile_dir is not None:
            config.profile_dir.mkdir(parents=True, exist_ok=True)
        facts = machine.describe()
        command = "python -m benchmarks " + shlex.join(argv)
        print(f"# licensewatch benchmarks ({config.label})\n")
        print(f"`{command.strip()}` on {facts['nproc']} cores, {facts['memory_mib']:,} MiB, ")
        print(f"{facts['cpu_model']}, Python {facts['python']}\n", flush=True)
        done: list[Workload] = []
        for key in chosen:
            work = run_one(key, config)
            done.append(work)
            print(markdown(work), flush=True)
    payload = {
        "command": command.strip(),
        "mode": config.label,
        "sizes": list(config.sizes),
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": facts,
    }
    path = write_json(payload, done, json_path)
    print(f"JSON: {path}")
    return 1 if any(w.status == "failed" for w in done) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
