"""W5's mixed load alone, against an already built database: `serve`, 20 clients, per endpoint.

`python -m benchmarks.web_mixed --db /tmp/w5.db --token T [--seconds 30] [--clients 20]
[--workers N] [--only "page users search,..."]` starts `licensewatch serve` on the file that
`python -m benchmarks.web_cpu --keep /tmp/w5.db` built (its bench account), drives it as W5's
mixed phase does (benchmarks/webload.py, its own process) and prints, per endpoint and for all,
the server's (`Server-Timing`) and the client's p50/p95/p99 and the requests per second. The
whole W5 builds the tenant from scratch each time (15+ minutes at 300k users); this repeats only
the load, so a change can be compared A/B on one file (`PYTHONPATH=<other>/src` serves another
checkout's code).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from benchmarks.w5_web import _endpoints
from benchmarks.webload import PASSWORD, Samples, hammer, percentile
from benchmarks.webserve import USERNAME, Server


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.0f}" if values else "-"


def report(samples: Samples) -> str:
    """A table of the server's and client's percentiles per endpoint, the slowest p95 first."""
    lines = [
        "| endpoint | n | server p50/p95/p99 ms | client p50/p95/p99 ms |",
        "|---|---:|---|---|",
    ]
    order = sorted(samples.latencies, key=lambda k: -percentile(samples.latencies[k], 95))
    every_client: list[float] = []
    every_server: list[float] = []
    for name in order:
        client, server = samples.latencies[name], samples.server.get(name, [])
        every_client += client
        every_server += server
        s = "/".join(_ms(server, q) for q in (50, 95, 99))
        c = "/".join(_ms(client, q) for q in (50, 95, 99))
        lines.append(f"| {name} | {len(client)} | {s} | {c} |")
    s = "/".join(_ms(every_server, q) for q in (50, 95, 99))
    c = "/".join(_ms(every_client, q) for q in (50, 95, 99))
    rate = samples.requests / samples.seconds if samples.seconds else 0.0
    lines.append(f"| all ({rate:.0f} req/s) | {samples.requests} | {s} | {c} |")
    if samples.errors:
        lines.append(f"\nnon-200 answers: {samples.errors}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.web_mixed", description=__doc__)
    parser.add_argument("--db", required=True, help="the SQLite file web_cpu --keep built")
    parser.add_argument("--token", required=True, help="its bench account's API token")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, help="serve --workers (default: serve's own)")
    parser.add_argument("--only", help="endpoint labels, comma-separated (default: all)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lw-webmixed-") as folder:
        env = {**os.environ, "LICENSEWATCH_DATABASE_URL": f"sqlite:///{Path(args.db).resolve()}"}
        env["LICENSEWATCH_HOME"] = str(Path(folder) / "home")
        # 21 sign-ins from one address within a minute (the clients): above the default limits.
        for limit in ("ACCOUNT_SOURCE", "ACCOUNT", "SOURCE", "TOTAL"):
            env[f"LICENSEWATCH_SIGN_IN_LIMIT_{limit}"] = "1000"
        with Server(env, Path(folder), args.workers) as server:
            endpoints = _endpoints(server.base, args.token)
            if args.only:
                chosen = {name.strip() for name in args.only.split(",")}
                endpoints = [e for e in endpoints if e[0] in chosen]
            login = (args.token, USERNAME, PASSWORD)
            samples = hammer(server.base, endpoints, args.clients, args.seconds, *login)
            print(report(samples), flush=True)
            log = (Path(folder) / "serve.log").read_text()
            if log.strip():
                print("\nserve's log (tail):\n" + log[-3000:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
