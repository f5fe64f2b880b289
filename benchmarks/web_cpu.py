"""CPU per request of W5's endpoints, in-process: the fixed cost every request pays, and the rest.

`python -m benchmarks.web_cpu [--sizes 300000] [--databases sqlite,postgresql] [--url URL]
[--times 20] [--profile ENDPOINT]` builds W5's tenant (benchmarks/webdata.py) in a throw-away
database (or reads an already built one at `--url`, as left by `--keep`), signs in as W5's
clients do, and sends each W5 endpoint through the real ASGI app (httpx's ASGI transport: no
socket, no server process) `--times` times after one warm-up request. Reported per endpoint:
the median CPU time of the process per request (`time.process_time`: app, driver, SQLite; not
PostgreSQL's server) and the median wall time. The first row, the bare request (a 404 of a
static file), is what the client and the ASGI plumbing cost on their own. `--only A,B` measures
those endpoints only; `--profile NAME` prints where that endpoint's time goes instead (sampled
stacks).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from inspect import signature
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
import httpx

from benchmarks.databases import postgres_database, postgres_problem, sqlite_database
from benchmarks.w5_web import API, PAGES
from benchmarks.webdata import build_web
from benchmarks.webload import PASSWORD, login
from licensewatch.services.accounts import create_account
from licensewatch.services.tokens import create_token
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine
from licensewatch.storage.models import Role
from licensewatch.web import create_app
from licensewatch.web.app import WEB_POOLING

T = TypeVar("T")
BARE = ("bare request (404)", "/static/missing.css", True)


def prepare(url: str, users: int) -> str:
    """W5's tenant and an admin account in a new database; the account's API token."""
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        build_web(engine, users)
        create_account(engine, "bench", Role.ADMIN, PASSWORD)
        token = create_token(engine, "bench", "bench")
        print(f"built {users:,} users in {time.perf_counter() - started:.0f} s", flush=True)
        return token
    finally:
        engine.dispose()


async def _endpoints(
    client: httpx.AsyncClient, bearer: dict[str, str]
) -> list[tuple[str, str, bool]]:
    """W5's endpoints with real ids (as benchmarks.w5_web._endpoints finds them)."""
    rows = (await client.get("/api/v1/balance?tenant=bench", headers=bearer)).json()["rows"]
    held = sorted(
        (r for r in rows if r["assigned_directly"] + r["assigned_via_groups"] > 0),
        key=lambda r: r["assigned_directly"] + r["assigned_via_groups"],
    )
    first = (await client.get("/api/v1/users?tenant=bench", headers=bearer)).json()
    user = first["items"][len(first["items"]) // 2]
    big, small = held[-1]["sku_id"], held[0]["sku_id"]
    holders = (
        await client.get(f"/api/v1/tenants/bench/products/{big}/holders", headers=bearer)
    ).json()
    values = {
        "big": big, "small": small, "user": user["id"],
        "term": user["user_principal_name"][:8], "users_cursor": first["next_cursor"],
        "holders_cursor": holders["next_cursor"],
    }  # fmt: skip
    found = [(f"page {name}", path.format(**values), True) for name, path in PAGES]
    return [BARE, *found] + [(f"API {name}", path.format(**values), False) for name, path in API]


async def _measure(
    url: str, token: str, home: Path, times: int, profile: str | None, only: str | None = None
) -> None:
    settings = Settings(home=home, database_url=url)
    engine = make_engine(url, upgrade=False, pooling=WEB_POOLING)
    # As `serve` builds it (an older checkout's create_app may not know freeze_heap).
    serving: dict[str, Any] = (
        {"freeze_heap": True} if "freeze_heap" in signature(create_app).parameters else {}
    )
    app = create_app(settings, engine=engine, **serving)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    bearer = {"authorization": f"Bearer {token}"}
    try:
        # The app's start-up as under `serve` (httpx's transport does not send lifespan events).
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        ):
            await login(client, "bench", PASSWORD)
            endpoints = await _endpoints(client, bearer)
            if profile:
                await _profile(client, endpoints, bearer, profile, times)
                return
            print("| endpoint | CPU ms (median) | wall ms (median) | status |")
            print("|---|---|---|---|")
            chosen = {name.strip() for name in only.split(",")} if only else None
            for label, path, page in endpoints:
                if chosen is not None and label not in chosen:
                    continue
                headers = None if page else bearer
                await client.get(path, headers=headers)  # warm-up: plans, caches
                cpu, wall, status = [], [], 0
                for _ in range(times):
                    c0, w0 = time.process_time(), time.perf_counter()
                    answer = await client.get(path, headers=headers)
                    cpu.append((time.process_time() - c0) * 1000)
                    wall.append((time.perf_counter() - w0) * 1000)
                    status = answer.status_code
                med_cpu, med_wall = statistics.median(cpu), statistics.median(wall)
                print(f"| {label} | {med_cpu:.1f} | {med_wall:.1f} | {status} |", flush=True)
    finally:
        engine.dispose()


async def _profile(
    client: httpx.AsyncClient,
    endpoints: list[tuple[str, str, bool]],
    bearer: dict[str, str],
    name: str,
    times: int,
) -> None:
    """Where the endpoint's time goes: stacks sampled every millisecond (cProfile's own cost
    per call would swamp the many small calls of a template or a driver)."""
    label, path, page = next(e for e in endpoints if e[0] == name)
    headers = None if page else bearer
    await client.get(path, headers=headers)
    # One thread to sample: run the sync routes and dependencies inline on the event loop.
    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
    sampler = Sampler(threading.get_ident())
    # The sampler runs when the request's thread lets go of the GIL: make that often, or the
    # samples pile up in the calls that release it (SQLite's steps, socket reads).
    sys.setswitchinterval(0.0002)
    sampler.start()
    for _ in range(times):
        await client.get(path, headers=headers)
    sampler.stop()
    print(f"{label} ({path}), {times} requests, {sampler.samples} samples\n")
    print(sampler.report(60))


class Sampler(threading.Thread):
    """A stdlib sampling profiler of one thread: inclusive and own share per function."""

    def __init__(self, target: int, interval: float = 0.001) -> None:
        super().__init__(daemon=True)
        self.target, self.interval = target, interval
        self.inclusive: Counter[str] = Counter()
        self.own: Counter[str] = Counter()
        self.samples = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.interval):
            frame = sys._current_frames().get(self.target)
            if frame is None:
                continue
            self.samples += 1
            seen: set[str] = set()
            leaf = True
            while frame is not None:
                code = frame.f_code
                where = f"{_short(code.co_filename)}:{code.co_firstlineno}({code.co_name})"
                if leaf:
                    self.own[where] += 1
                    leaf = False
                if where not in seen:
                    seen.add(where)
                    self.inclusive[where] += 1
                frame = frame.f_back

    def stop(self) -> None:
        self._done.set()
        self.join()

    def report(self, top: int) -> str:
        total = max(self.samples, 1)
        lines = ["inclusive %  own %  function"]
        for where, count in self.inclusive.most_common(top):
            lines.append(f"{count / total:10.1%} {self.own[where] / total:6.1%}  {where}")
        lines.append("\nown %  function")
        for where, count in self.own.most_common(25):
            lines.append(f"{count / total:6.1%}  {where}")
        return "\n".join(lines)


def _short(filename: str) -> str:
    for marker in ("site-packages/", "src/licensewatch/", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


async def _inline(function: Callable[..., T], *args: object, **_: object) -> T:
    return function(*args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.web_cpu", description=__doc__)
    parser.add_argument("--sizes", default="300000", help="users, comma-separated")
    parser.add_argument("--databases", default="sqlite", help="sqlite,postgresql")
    parser.add_argument("--url", help="an already built database (with --token)")
    parser.add_argument("--token", help="the API token of the built database's bench account")
    parser.add_argument(
        "--keep",
        help="build into this SQLite file or empty database URL and keep it (prints the token)",
    )
    parser.add_argument("--times", type=int, default=20, help="requests per endpoint")
    parser.add_argument("--only", help="endpoint labels to measure, comma-separated (default: all)")
    parser.add_argument("--profile", help="an endpoint label: print its cProfile instead")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lw-webcpu-") as folder:
        home = Path(folder) / "home"
        if args.url:
            asyncio.run(_measure(args.url, args.token, home, args.times, args.profile, args.only))
            return 0
        for users in (int(s) for s in args.sizes.split(",") if s.strip()):
            if args.keep:
                keep = args.keep  # a file, or the URL of an empty PostgreSQL database
                url = keep if "://" in keep else f"sqlite:///{Path(keep).resolve()}"
                print(f"token: {prepare(url, users)}")
                return 0
            for kind in (k.strip() for k in args.databases.split(",") if k.strip()):
                if kind == "postgresql" and (problem := postgres_problem()):
                    print(f"\npostgresql skipped: {problem}")
                    continue
                database = (
                    postgres_database() if kind == "postgresql" else sqlite_database(Path(folder))
                )
                with database as url:
                    token = prepare(url, users)
                    print(f"\n{kind}, {users:,} users\n")
                    asyncio.run(_measure(url, token, home, args.times, args.profile, args.only))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
