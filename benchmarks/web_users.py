"""The users list through the app, each request alone: does page 1 grow with the tenant?

`python -m benchmarks.web_users [--sizes 300000,1000000] [--databases sqlite,postgresql]`
builds W5's tenant (benchmarks/webdata.py) in a throw-away database, signs in, and asks each
users request W5 asks (page and API, page 1, next page, search, unlicensed) through the FastAPI
app in-process (Starlette's test client: routing, auth, queries, template; no socket), after
one warm-up, printing the app's own time (its `Server-Timing` header, as W5 reports "server")
as median and maximum of 9. `--file PATH` (or a SQLAlchemy URL) times an existing database built
the same way instead (as it is: no upgrade; `benchmarks/webdata.py` writes one), e.g. before and
after a migration on the same data.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import uuid
from pathlib import Path

from starlette.testclient import TestClient

from benchmarks.databases import each_size_and_engine, postgres_database, sqlite_database
from benchmarks.webdata import build_web
from licensewatch.services.accounts import create_account
from licensewatch.services.tokens import create_token
from licensewatch.settings import Settings
from licensewatch.storage.database import make_engine
from licensewatch.storage.models import Role
from licensewatch.web import create_app
from licensewatch.web.app import WEB_POOLING
from licensewatch.web.timing import app_duration_ms

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "bench-password-0123456789"  # noqa: S105 - a throw-away database's account
TIMES = 9
# W5's users requests (benchmarks/w5_web.py), `{cursor}` and `{term}` from the first page.
REQUESTS = (
    "/users?tenant=bench",
    "/users?tenant=bench&cursor={cursor}",
    "/users?tenant=bench&search={term}",
    "/users?tenant=bench&licensed=no",
    "/users?tenant=bench&licensed=yes",
    "/api/v1/users?tenant=bench",
    "/api/v1/users?tenant=bench&cursor={cursor}",
    "/api/v1/users?tenant=bench&search={term}",
    "/api/v1/users?tenant=bench&licensed=no",
)


def time_requests(url: str, label: str, home: Path) -> None:
    """Sign a new admin in on the database at `url` and time each request (a Markdown row each)."""
    name = f"bench-{uuid.uuid4().hex[:6]}"
    engine = make_engine(url, upgrade=False)
    try:
        create_account(engine, name, Role.ADMIN, PASSWORD)
        token = create_token(engine, name, name)
    finally:
        engine.dispose()
    web_engine = make_engine(url, upgrade=False, pooling=WEB_POOLING)
    bearer = {"authorization": f"Bearer {token}"}
    try:
        with TestClient(create_app(Settings(home=home, database_url=url), engine=web_engine)) as c:
            form = CSRF.search(c.get("/login").text)
            assert form is not None
            data = {"username": name, "password": PASSWORD, "csrf_token": form.group(1)}
            assert c.post("/login", data=data, follow_redirects=False).status_code == 303
            first = c.get("/api/v1/users", params={"tenant": "bench"}, headers=bearer).json()
            user = first["items"][len(first["items"]) // 2]
            values = {"cursor": first["next_cursor"], "term": user["user_principal_name"][:8]}
            print("| database | request | server median ms | server max ms |\n|---|---|---|---|")
            for path in REQUESTS:
                asked = path.format(**values)
                headers = bearer if asked.startswith("/api/") else {}
                c.get(asked, headers=headers)  # warm-up: templates, statement caches
                took: list[float] = []
                for _ in range(TIMES):
                    response = c.get(asked, headers=headers)
                    assert response.status_code == 200, (asked, response.status_code)
                    took.append(app_duration_ms(response.headers.get("server-timing")) or 0.0)
                shown = path.replace("{cursor}", "…").replace("{term}", values["term"])
                median, worst = statistics.median(took), max(took)
                print(f"| {label} | `{shown}` | {median:.1f} | {worst:.1f} |", flush=True)
    finally:
        web_engine.dispose()


def run(kind: str, users: int, folder: Path) -> None:
    database = postgres_database() if kind == "postgresql" else sqlite_database(folder)
    with database as url:
        engine = make_engine(url)
        try:
            build_web(engine, users)
        finally:
            engine.dispose()
        print(f"\n{kind}, {users:,} users\n")
        time_requests(url, f"{kind} {users:,}", folder / f"home-{kind}-{users}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--file")
    known, rest = parser.parse_known_args(argv)
    if known.file is not None:
        with tempfile.TemporaryDirectory(prefix="lw-bench-") as home:
            file: str = known.file
            url = file if "://" in file else f"sqlite:///{file}"
            time_requests(url, url.rsplit("/", 1)[-1], Path(home))
        return 0
    return each_size_and_engine("python -m benchmarks.web_users", __doc__, "300000", run, rest)


if __name__ == "__main__":
    raise SystemExit(main())
