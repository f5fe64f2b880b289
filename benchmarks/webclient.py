"""W5's requests through the app in-process, each alone, timed by the app's `Server-Timing`.

Shared by `benchmarks.web_users` and `benchmarks.web_product`: W5's tenant built in a throw-away
database (or an existing one given with `--url`/`--file`, read as it is: no upgrade, so an older
checkout can time the same file for a before/after), a new admin signed in (session cookie and
API token), then each request after one warm-up: the median and maximum of the app's own time
(what W5 reports as "server") and of the client's, through Starlette's test client (routing,
auth, queries, templates, JSON; no socket).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from starlette.testclient import TestClient

from benchmarks.databases import each_size_and_engine, postgres_database, sqlite_database
from benchmarks.webdata import build_web
from benchmarks.webload import PASSWORD
from licensewatch.services.accounts import create_account
from licensewatch.services.tokens import create_token
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine
from licensewatch.storage.models import Role
from licensewatch.web import create_app
from licensewatch.web.app import WEB_POOLING
from licensewatch.web.timing import app_duration_ms

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
Requests = Sequence[tuple[str, str]]  # (title, path with {placeholders})
# The placeholders' values, from the database and the signed-in client (bearer headers).
Values = Callable[[str, TestClient, dict[str, str]], dict[str, str]]


def time_requests(
    url: str, label: str, home: Path, requests: Requests, values: Values, times: int
) -> None:
    """Sign a new admin in on the W5 database at `url`; print one Markdown row per request."""
    name = f"bench-{uuid.uuid4().hex[:6]}"
    engine = make_engine(url, upgrade=False)
    try:
        create_account(engine, name, Role.ADMIN, PASSWORD)
        bearer = {"authorization": f"Bearer {create_token(engine, name, name)}"}
    finally:
        engine.dispose()
    web_engine = make_engine(url, upgrade=False, pooling=WEB_POOLING)
    try:
        app = create_app(Settings(home=home, database_url=url), engine=web_engine)
        with TestClient(app) as client:
            form = CSRF.search(client.get("/login").text)
            assert form is not None
            data = {"username": name, "password": PASSWORD, "csrf_token": form.group(1)}
            assert client.post("/login", data=data, follow_redirects=False).status_code == 303
            filled = values(url, client, bearer)
            print("| database | request | server median ms | server max ms | client median ms |")
            print("|---|---|---|---|---|")
            for title, path in requests:
                asked = path.format(**filled)
                headers = bearer if asked.startswith("/api/") else {}
                client.get(asked, headers=headers)  # warm-up: templates, statement caches
                server, took = [], []
                for _ in range(times):
                    began = time.perf_counter()
                    response = client.get(asked, headers=headers)
                    took.append((time.perf_counter() - began) * 1000)
                    assert response.status_code == 200, (asked, response.status_code)
                    server.append(app_duration_ms(response.headers.get("server-timing")) or 0.0)
                print(
                    f"| {label} | {title} | {statistics.median(server):.1f} | {max(server):.1f} "
                    f"| {statistics.median(took):.1f} |",
                    flush=True,
                )
    finally:
        web_engine.dispose()


def main(
    prog: str,
    doc: str | None,
    sizes: str,
    requests: Requests,
    values: Values,
    times: int,
    argv: list[str] | None,
) -> int:
    """`--url URL` (or `--file PATH`): time that database; else build W5 per size and engine."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--url", "--file", dest="url")
    given, rest = parser.parse_known_args(argv)

    def timed(url: str, label: str, home: Path) -> None:
        time_requests(url, label, home, requests, values, times)

    if given.url is not None:
        url = given.url if "://" in given.url else f"sqlite:///{given.url}"
        with tempfile.TemporaryDirectory(prefix="lw-bench-") as home:
            timed(url, url.rsplit("/", 1)[-1], Path(home))
        return 0

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
            timed(url, f"{kind} {users:,}", folder / f"home-{kind}-{users}")

    return each_size_and_engine(prog, doc, sizes, run, rest)
