"""Savings and recommendations requests at scale: real requests through the app, in-process.

`python -m benchmarks.web_savings [--sizes 100000] [--databases sqlite,postgresql]` writes the
findings benchmark's synthetic tenant (benchmarks/findings.py: disabled accounts, users who never
signed in, duplicate assignments; prices for its main products), signs in, and times each request
through the FastAPI app (Starlette's test client: routing, queries, templates, JSON; no socket),
median and maximum of 5, after one warm-up request. Where the stored recommendations exist
(`read_models/recommendations_build.py`) they are built first, as a publish would, and that time
is printed; on a checkout without them (before decision 0009's recommendations part) every
request computes them, as it did then (the warm-up would fill the 1-minute memo: it is cleared
between requests when the module exists, so each request is timed uncached).
"""

from __future__ import annotations

import importlib
import re
import statistics
import time
from pathlib import Path

from starlette.testclient import TestClient

from benchmarks.databases import each_size_and_engine, postgres_database, sqlite_database
from benchmarks.findings import build
from licensewatch.intelligence.prices import set_price
from licensewatch.services.accounts import create_account
from licensewatch.services.tokens import create_token
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine, write_transaction
from licensewatch.storage.models import Role
from licensewatch.web import create_app
from licensewatch.web.app import WEB_POOLING

PRICES = {"SPE_E3": "36.00", "SPE_E5": "57.00", "ENTERPRISEPACK": "23.00", "SPB": "22.00"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "bench-password-0123456789"  # noqa: S105 - a throw-away database's account
TIMES = 5
REQUESTS = (
    "/savings",
    "/savings?action=remove",
    "/api/v1/recommendations",
    "/api/v1/recommendations?limit=100",
    "/api/v1/savings",
    "/",
)


def _prebuild(url: str, tenant_pk: int) -> float | None:
    """Build the stored recommendations as a publish does; None where they do not exist."""
    try:
        module = importlib.import_module(
            "licensewatch.intelligence.read_models.recommendations_build"
        )
    except ImportError:
        return None
    engine = make_engine(url, upgrade=False)
    try:
        started = time.perf_counter()
        with write_transaction(engine) as connection:
            module.publish_recommendations(connection, tenant_pk)
        return time.perf_counter() - started
    finally:
        engine.dispose()


def _forget_memo() -> None:
    try:
        memo = importlib.import_module("licensewatch.intelligence.recommendation_cache")
    except ImportError:
        return
    memo._memo.clear()


def _signed_in(client: TestClient) -> None:
    form = client.get("/login")
    token = CSRF.search(form.text)
    assert token is not None
    data = {"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text


def run(kind: str, users: int, folder: Path) -> None:
    database = postgres_database() if kind == "postgresql" else sqlite_database(folder)
    with database as url:
        engine = make_engine(url)
        try:
            started = time.perf_counter()
            pk = build(engine, users)
            for part, amount in PRICES.items():
                set_price(engine, part, amount, "EUR", "monthly")
            create_account(engine, "bench", Role.ADMIN, PASSWORD)
            token = create_token(engine, "bench", "bench")
        finally:
            engine.dispose()
        built = time.perf_counter() - started
        print(f"\n{kind}, {users:,} users (written in {built:.0f} s)")
        took = _prebuild(url, pk)
        if took is not None:
            print(f"  stored recommendations built in {took * 1000:.0f} ms (as at a publish)")
        settings = Settings(home=folder / f"home-{kind}", database_url=url)
        web_engine = make_engine(url, upgrade=False, pooling=WEB_POOLING)
        try:
            with TestClient(create_app(settings, engine=web_engine)) as client:
                _signed_in(client)
                print("| database | users | request | median ms | max ms | bytes |")
                print("|---|---|---|---|---|---|")
                for path in REQUESTS:
                    headers = {"authorization": f"Bearer {token}"} if "/api/" in path else {}
                    client.get(path, headers=headers)  # warm-up: templates, plans, caches
                    times, size = [], 0
                    for _ in range(TIMES):
                        _forget_memo()
                        began = time.perf_counter()
                        response = client.get(path, headers=headers)
                        times.append((time.perf_counter() - began) * 1000)
                        assert response.status_code == 200, (path, response.status_code)
                        size = len(response.content)
                    median, worst = statistics.median(times), max(times)
                    row = f"| {kind} | {users:,} | {path} | {median:.0f} | {worst:.0f} | {size:,} |"
                    print(row, flush=True)
        finally:
            web_engine.dispose()


def main(argv: list[str] | None = None) -> int:
    return each_size_and_engine("python -m benchmarks.web_savings", __doc__, "100000", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
