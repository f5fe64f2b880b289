"""W5: every page and API endpoint, alone and under 20 concurrent clients, at 300k and 1M users.

For each database (SQLite, PostgreSQL) and tenant size: a synthetic tenant with weeks of history
(benchmarks/webdata.py), `licensewatch serve` (its default worker count), then (1) each
endpoint alone, one request after another, and (2) 20 clients cycling through all of them for
30 s. Reported per endpoint: server time (the app's `Server-Timing`) and client time, p50/p95/p99,
requests/s; RSS of each serving process during the load and after it; and the CLI's start-up
beside `python -c "import typer"`.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from benchmarks.config import Config
from benchmarks.databases import postgres_database, postgres_problem, sqlite_database
from benchmarks.report import Target, Workload, table
from benchmarks.webdata import build_web
from benchmarks.webload import Samples, hammer, percentile
from benchmarks.webserve import USERNAME, Server, account, startup_rows
from licensewatch.storage.database import make_engine

CLIENTS = 20
COLUMNS = [
    "database", "users", "endpoint", "alone server p50 ms", "alone server p95 ms",
    "requests", "errors", "req/s", "server p50 ms", "server p95 ms", "server p99 ms",
    "client p50 ms", "client p95 ms", "client p99 ms",
]  # fmt: skip
PAGES = (
    ("dashboard", "/"),
    ("tenant dashboard", "/?tenant=bench"),
    ("tenants", "/tenants"),
    ("tenant settings", "/tenants/bench"),
    ("users", "/users?tenant=bench"),
    ("users next page", "/users?tenant=bench&cursor={users_cursor}"),
    ("users search", "/users?tenant=bench&search={term}"),
    ("users unlicensed", "/users?tenant=bench&licensed=no"),
    ("user detail", "/tenants/bench/users/{user}"),
    ("product (most held)", "/tenants/bench/products/{big}"),
    ("product (least held)", "/tenants/bench/products/{small}"),
    ("product holders search", "/tenants/bench/products/{big}?search={term}"),
    ("findings", "/findings"),
    ("costs", "/costs"),
    ("renewals", "/renewals"),
    ("savings", "/savings"),
    ("plans", "/plans"),
    ("sync runs", "/sync"),
    ("changes", "/changes"),
    ("catalogue", "/catalog"),
)
API = (
    ("balance", "/api/v1/balance"),
    ("tenants", "/api/v1/tenants"),
    ("tenant", "/api/v1/tenants/bench"),
    ("users", "/api/v1/users?tenant=bench"),
    ("users next page", "/api/v1/users?tenant=bench&cursor={users_cursor}"),
    ("users search", "/api/v1/users?tenant=bench&search={term}"),
    ("user", "/api/v1/tenants/bench/users/{user}"),
    ("product", "/api/v1/tenants/bench/products/{big}"),
    ("holders (most held)", "/api/v1/tenants/bench/products/{big}/holders"),
    ("holders next page", "/api/v1/tenants/bench/products/{big}/holders?cursor={holders_cursor}"),
    ("holders (least held)", "/api/v1/tenants/bench/products/{small}/holders"),
    ("findings", "/api/v1/findings?tenant=bench"),
    ("costs", "/api/v1/costs?tenant=bench"),
    ("savings", "/api/v1/savings?tenant=bench"),
    ("recommendations", "/api/v1/recommendations?tenant=bench&limit=100"),
    ("renewal plan", "/api/v1/renewals/plan"),
    ("usage", "/api/v1/usage"),
    ("plans", "/api/v1/plans"),
    ("subscriptions", "/api/v1/subscriptions"),
    ("sync runs", "/api/v1/sync-runs"),
    ("changes", "/api/v1/changes"),
    ("catalogue", "/api/v1/catalog"),
)


def run(config: Config) -> Workload:
    work = Workload("W5", "every page and API endpoint, alone and 20 clients", columns=COLUMNS)
    sizes = _sizes(config)
    kinds = [k for k in config.web_databases if k == "sqlite" or not postgres_problem()]
    if len(kinds) < len(config.web_databases):
        work.notes.append(f"PostgreSQL skipped: {postgres_problem()}")
    summary: dict[tuple[str, int], dict[str, Any]] = {}
    for size in sizes:
        for kind in kinds:
            summary[(kind, size)] = _one(config, work, kind, size)
    _targets(work, summary)
    return work


def _sizes(config: Config) -> tuple[int, ...]:
    return (2_000,) if config.quick else config.web_sizes


def _one(config: Config, work: Workload, kind: str, size: int) -> dict[str, Any]:
    folder = config.workdir / f"w5-{kind}-{size}"
    folder.mkdir(exist_ok=True)
    database = postgres_database() if kind == "postgresql" else sqlite_database(folder)
    seconds = 5.0 if config.quick else 30.0
    with database as url:
        engine = make_engine(url)
        try:
            build_web(engine, size, config.seed)
        finally:
            engine.dispose()
        env = {**os.environ, "LICENSEWATCH_DATABASE_URL": url}
        env["LICENSEWATCH_HOME"] = str(folder / "home")
        # 21 sign-ins from one address within a minute (the clients): above the default limits.
        for limit in ("ACCOUNT_SOURCE", "ACCOUNT", "SOURCE", "TOTAL"):
            env[f"LICENSEWATCH_SIGN_IN_LIMIT_{limit}"] = "1000"
        password, token = account(env)
        with Server(env, folder, config.web_workers) as server:
            endpoints = _endpoints(server.base, token)
            rounds = 3 if config.quick else 10
            login = (token, USERNAME, password)
            alone = hammer(server.base, endpoints, 1, 10.0, *login, rounds=rounds)
            mixed = hammer(server.base, endpoints, CLIENTS, seconds, *login)
            during = {pid: round(rss) for pid, rss in server.peak.items()}
            after = [round(rss) for rss in server.rss_now()]
        if kind == "sqlite" and size == min(_sizes(config)):  # once per run, the smaller tenant
            startup = startup_rows(env, runs=3 if config.quick else 5)
            work.notes.append(
                f"CLI start-up ({kind}, {size:,} users; median of runs in this process):\n\n"
                + table(["command", "median ms", "× import typer"], startup)
            )
    label = {"database": kind, "users": size}
    every_client: list[float] = []
    every_server: list[float] = []
    for name, _, _ in endpoints:
        client, server_times = mixed.latencies.get(name, []), mixed.server.get(name, [])
        every_client += client
        every_server += server_times
        row = _row(name, alone, mixed)
        work.rows.append({**label, **row})
    all_row = _stats(every_client, every_server, sum(mixed.errors.values()), mixed.seconds)
    work.rows.append({**label, "endpoint": "all (mixed)", **all_row})
    work.notes.append(
        f"{kind}, {size:,} users: {mixed.requests:,} requests in {mixed.seconds:.0f} s "
        f"({mixed.requests / mixed.seconds:,.0f}/s) from {CLIENTS} clients; serving processes "
        f"{len(during)}; peak RSS during the load per process {sorted(during.values())} MiB, "
        f"after it {sorted(after)} MiB; load generator CPU "
        f"{mixed.client_cpu / mixed.seconds:.0%} of one core"
    )
    if mixed.errors:
        work.notes.append(f"{kind}, {size:,}: non-200 answers {mixed.errors}")
    pages = [
        r["alone server p95 ms"] or 0.0
        for r in work.rows
        if (r["database"], r["users"]) == (kind, size) and r["endpoint"].startswith("page")
    ]
    slowest_page = max(pages, default=0.0)
    return {**all_row, "rss": max([*during.values(), *after], default=0), "page": slowest_page}


def _endpoints(base: str, token: str) -> list[tuple[str, str, bool]]:
    """The endpoint list with real ids: products, a user, a search term and next-page cursors."""
    with httpx.Client(base_url=base, headers={"authorization": f"Bearer {token}"}) as api:
        rows = api.get("/api/v1/balance", params={"tenant": "bench"}).json()["rows"]
        held = sorted(
            (r for r in rows if r["assigned_directly"] + r["assigned_via_groups"] > 0),
            key=lambda r: r["assigned_directly"] + r["assigned_via_groups"],
        )
        first = api.get("/api/v1/users", params={"tenant": "bench"}).json()
        user = first["items"][len(first["items"]) // 2]
        big, small = held[-1]["sku_id"], held[0]["sku_id"]
        holders = api.get(f"/api/v1/tenants/bench/products/{big}/holders").json()
    values = {
        "big": big, "small": small, "user": user["id"],
        # A prefix shared by 1 user in 1,000 (user0001xxx of user0000000..user0299999).
        "term": user["user_principal_name"][:8], "users_cursor": first["next_cursor"],
        "holders_cursor": holders["next_cursor"],
    }  # fmt: skip
    found = [(f"page {name}", path.format(**values), True) for name, path in PAGES]
    return found + [(f"API {name}", path.format(**values), False) for name, path in API]


def _ms(values: list[float], q: float) -> float | None:
    return percentile(values, q) * 1000 if values else None


def _stats(client: list[float], server: list[float], errors: int, seconds: float) -> dict[str, Any]:
    return {
        "requests": len(client),
        "errors": errors,
        "req/s": len(client) / seconds if seconds else None,
        "server p50 ms": _ms(server, 50),
        "server p95 ms": _ms(server, 95),
        "server p99 ms": _ms(server, 99),
        "client p50 ms": _ms(client, 50),
        "client p95 ms": _ms(client, 95),
        "client p99 ms": _ms(client, 99),
    }


def _row(name: str, alone: Samples, mixed: Samples) -> dict[str, Any]:
    lonely = alone.server.get(name, [])
    return {
        "endpoint": name,
        "alone server p50 ms": _ms(lonely, 50),
        "alone server p95 ms": _ms(lonely, 95),
        **_stats(
            mixed.latencies.get(name, []),
            mixed.server.get(name, []),
            mixed.errors.get(name, 0),
            mixed.seconds,
        ),
    }


def _targets(work: Workload, summary: dict[tuple[str, int], dict[str, Any]]) -> None:
    for (kind, size), s in summary.items():
        at = f"{kind}, {size:,} users"
        work.targets += [
            Target(f"{at}: client p95 ms, 20 clients mixed", s["client p95 ms"], 100),
            Target(f"{at}: client p99 ms, 20 clients mixed", s["client p99 ms"], 250),
            Target(f"{at}: errors", float(s["errors"]), 0),
            Target(f"{at}: slowest page alone, server p95 ms", s["page"], 50),
            Target(f"{at}: highest RSS of a serving process, MiB", s["rss"], 238),
        ]
    sizes = sorted({size for _, size in summary})
    for kind in sorted({kind for kind, _ in summary}):
        if len(sizes) > 1 and (kind, sizes[0]) in summary and (kind, sizes[-1]) in summary:
            small, large = summary[(kind, sizes[0])], summary[(kind, sizes[-1])]
            ratio = (large["client p95 ms"] or 0) / (small["client p95 ms"] or 1)
            work.targets.append(
                Target(f"{kind}: client p95 at {sizes[-1]:,} ÷ at {sizes[0]:,}", ratio, 1.5)
            )
