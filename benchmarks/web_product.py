"""A product's page and API at scale: real requests through the app, in-process, as W5 asks them.

`python -m benchmarks.web_product [--sizes 300000,1000000] [--databases sqlite,postgresql]`
builds W5's tenant (benchmarks/webdata.py, its publish included), signs in, and times W5's
product requests (most- and least-held product: page, holders API, product API, holders
search) through the FastAPI app (Starlette's test client: routing, queries, templates, JSON; no
socket), median and maximum of 7 after one warm-up, with the app's own `Server-Timing`.
`--url URL` times an already built W5 database instead (e.g. one kept from an earlier run, or
read by an older checkout for a before/after: the schema is not upgraded).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import select
from starlette.testclient import TestClient

from benchmarks.databases import each_size_and_engine, postgres_database, sqlite_database
from benchmarks.webdata import build_web
from licensewatch.services.accounts import create_account
from licensewatch.services.tokens import create_token
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine
from licensewatch.storage.models import Role, Sku
from licensewatch.web import create_app
from licensewatch.web.app import WEB_POOLING
from licensewatch.web.timing import app_duration_ms

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "bench-password-0123456789"  # noqa: S105 - a throw-away database's account
TIMES = 7
REQUESTS = (
    ("page product (most held)", "/tenants/bench/products/{big}"),
    ("page product (least held)", "/tenants/bench/products/{small}"),
    ("page product holders search", "/tenants/bench/products/{big}?search={term}"),
    ("API product", "/api/v1/tenants/bench/products/{big}"),
    ("API holders (most held)", "/api/v1/tenants/bench/products/{big}/holders"),
    ("API holders (least held)", "/api/v1/tenants/bench/products/{small}/holders"),
)


def _products(url: str) -> tuple[str, str]:
    """The most and the least held product with holders, as W5 picks them."""
    engine = make_engine(url, upgrade=False)
    try:
        with engine.connect() as connection:
            held = Sku.direct_assigned + Sku.group_assigned
            rows = connection.execute(select(Sku.sku_id, held).where(held > 0)).all()
    finally:
        engine.dispose()
    ordered = sorted(rows, key=lambda r: r[1])
    return ordered[-1][0], ordered[0][0]


def time_requests(url: str, label: str, home: Path) -> None:
    """Sign in to the W5 database at `url` and print one Markdown row per request."""
    engine = make_engine(url, upgrade=False)
    name = f"bench-{uuid.uuid4().hex[:6]}"
    try:
        create_account(engine, name, Role.ADMIN, PASSWORD)
        token = create_token(engine, name, name)
    finally:
        engine.dispose()
    big, small = _products(url)
    values = {"big": big, "small": small, "term": "user0001"}
    web_engine = make_engine(url, upgrade=False, pooling=WEB_POOLING)
    try:
        app = create_app(Settings(home=home, database_url=url), engine=web_engine)
        with TestClient(app) as client:
            form = client.get("/login")
            csrf = CSRF.search(form.text)
            assert csrf is not None
            data = {"username": name, "password": PASSWORD, "csrf_token": csrf.group(1)}
            assert client.post("/login", data=data, follow_redirects=False).status_code == 303
            print("| database | request | median ms | max ms | server median ms | bytes |")
            print("|---|---|---|---|---|---|")
            for title, path in REQUESTS:
                path = path.format(**values)
                headers = {"authorization": f"Bearer {token}"} if "/api/" in path else {}
                client.get(path, headers=headers)  # warm-up: templates, plans, caches
                took, server, size = [], [], 0
                for _ in range(TIMES):
                    began = time.perf_counter()
                    response = client.get(path, headers=headers)
                    took.append((time.perf_counter() - began) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
                    server.append(app_duration_ms(response.headers.get("server-timing")) or 0.0)
                    size = len(response.content)
                median, worst = statistics.median(took), max(took)
                row = f"| {label} | {title} | {median:.1f} | {worst:.1f} "
                print(row + f"| {statistics.median(server):.1f} | {size:,} |", flush=True)
    finally:
        web_engine.dispose()


def run(kind: str, users: int, folder: Path) -> None:
    database = postgres_database() if kind == "postgresql" else sqlite_database(folder)
    with database as url:
        engine = make_engine(url)
        try:
            started = time.perf_counter()
            build_web(engine, users)
        finally:
            engine.dispose()
        print(f"\n{kind}, {users:,} users (built in {time.perf_counter() - started:.0f} s)\n")
        time_requests(url, f"{kind} {users:,}", folder / f"home-{kind}-{users}")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--url" in args:
        parser = argparse.ArgumentParser(prog="python -m benchmarks.web_product")
        parser.add_argument("--url", required=True, help="an already built W5 database")
        parser.add_argument("--label", default="given database")
        given = parser.parse_args(args)
        with tempfile.TemporaryDirectory(prefix="lw-bench-") as folder:
            time_requests(given.url, given.label, Path(folder))
        return 0
    return each_size_and_engine(
        "python -m benchmarks.web_product", __doc__, "300000,1000000", run, args
    )


if __name__ == "__main__":
    raise SystemExit(main())
