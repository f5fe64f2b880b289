"""Each W5 endpoint's first request in a fresh process, against the same endpoint's steady cost.

`python -m benchmarks.web_first --url URL --token T [--only A,B] [--times 10] [--rounds 1]`
reads a tenant built by `python -m benchmarks.web_cpu --keep FILE`. Per endpoint it starts a new
Python process that does what a `serve` worker does before its first request (a new engine, the
app's lifespan: templates compiled) and signs in, then times the endpoint's first request and
`--times` more through the real ASGI app (as `benchmarks.web_cpu`). Reported: the first
request's wall and CPU time, the median of the rest, and their ratio. W5's p95 of ten requests
over two workers is the slower worker's first request, so this is the figure that sets it.
`--profile PATH [--page]` prints cProfile's view of that path's first request instead.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx

from benchmarks.web_cpu import _endpoints, _inline
from benchmarks.webload import PASSWORD, login
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine
from licensewatch.web import create_app
from licensewatch.web.app import WEB_POOLING


async def _timed(
    url: str, token: str, path: str, page: bool, times: int, profile: bool = False
) -> dict[str, Any]:
    """In this (fresh) process: sign in, then the endpoint's first request and `times` more."""
    with tempfile.TemporaryDirectory(prefix="lw-webfirst-") as folder:
        settings = Settings(home=Path(folder) / "home", database_url=url)
        engine = make_engine(url, upgrade=False, pooling=WEB_POOLING)
        app = create_app(settings, engine=engine)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        headers = None if page else {"authorization": f"Bearer {token}"}
        try:
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            # As a worker starts (the lifespan: templates compiled, warm-up), then signs in.
            async with app.router.lifespan_context(app), client:
                await login(client, "bench", PASSWORD)
                cpu, wall, status = [], [], 0
                for n in range(times + 1):
                    profiler = cProfile.Profile() if profile and n == 0 else None
                    c0, w0 = time.process_time(), time.perf_counter()
                    if profiler is not None:
                        # One thread to profile: the sync routes run on the event loop.
                        anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
                        profiler.enable()
                    answer = await client.get(path, headers=headers)
                    if profiler is not None:
                        profiler.disable()
                        stats = pstats.Stats(profiler, stream=sys.stderr)
                        stats.sort_stats("cumulative").print_stats(160)
                    cpu.append((time.process_time() - c0) * 1000)
                    wall.append((time.perf_counter() - w0) * 1000)
                    status = answer.status_code
        finally:
            engine.dispose()
    return {
        "first_wall": wall[0],
        "first_cpu": cpu[0],
        "steady_wall": statistics.median(wall[1:]),
        "steady_cpu": statistics.median(cpu[1:]),
        "status": status,
    }


async def _resolve(url: str, token: str) -> list[tuple[str, str, bool]]:
    """W5's endpoints with real ids, read in this (parent) process."""
    with tempfile.TemporaryDirectory(prefix="lw-webfirst-") as folder:
        settings = Settings(home=Path(folder) / "home", database_url=url)
        engine = make_engine(url, upgrade=False, pooling=WEB_POOLING)
        app = create_app(settings, engine=engine)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                await login(client, "bench", PASSWORD)
                return await _endpoints(client, {"authorization": f"Bearer {token}"})
        finally:
            engine.dispose()


def _child(url: str, token: str, path: str, page: bool, times: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.web_first", "--url", url, "--token", token]
    command += ["--child", path, "--times", str(times)] + (["--page"] if page else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{path}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.web_first", description=__doc__)
    parser.add_argument("--url", required=True, help="a database built by web_cpu --keep")
    parser.add_argument("--token", required=True, help="the bench account's API token")
    parser.add_argument("--times", type=int, default=10, help="steady requests after the first")
    parser.add_argument("--rounds", type=int, default=1, help="fresh processes per endpoint")
    parser.add_argument("--only", help="endpoint labels to measure, comma-separated (default: all)")
    parser.add_argument(
        "--profile", help="an endpoint's path: print cProfile's view of its first request"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--page", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child or args.profile:
        path, profile = args.child or args.profile, bool(args.profile)
        timed = asyncio.run(_timed(args.url, args.token, path, args.page, args.times, profile))
        print(json.dumps(timed))
        return 0
    chosen = {name.strip() for name in args.only.split(",")} if args.only else None
    endpoints = asyncio.run(_resolve(args.url, args.token))
    print("| endpoint | first wall ms | first CPU ms | steady wall ms | first ÷ steady | status |")
    print("|---|---|---|---|---|---|")
    for label, path, page in endpoints:
        if chosen is not None and label not in chosen:
            continue
        runs = [_child(args.url, args.token, path, page, args.times) for _ in range(args.rounds)]
        first = statistics.median(r["first_wall"] for r in runs)
        first_cpu = statistics.median(r["first_cpu"] for r in runs)
        steady = statistics.median(r["steady_wall"] for r in runs)
        print(
            f"| {label} | {first:.1f} | {first_cpu:.1f} | {steady:.1f} | "
            f"{first / steady:.1f}× | {runs[-1]['status']} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
