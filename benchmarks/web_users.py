"""The users list through the app, each request alone: does page 1 grow with the tenant?

`python -m benchmarks.web_users [--sizes 300000,1000000] [--databases sqlite,postgresql]`
builds W5's tenant (benchmarks/webdata.py) in a throw-away database, signs in, and asks each
users request W5 asks (page and API, page 1, next page, search, unlicensed) through the FastAPI
app in-process, median and maximum of 9 after one warm-up (benchmarks/webclient.py).
`--file PATH` (or `--url URL`) times an existing database built the same way instead (as it is:
no upgrade), e.g. before and after a migration on the same data.
"""

from __future__ import annotations

from starlette.testclient import TestClient

from benchmarks import webclient

# W5's users requests (benchmarks/w5_web.py), `{cursor}` and `{term}` from the first page.
REQUESTS = tuple(
    (path.replace("{cursor}", "…"), path)
    for path in (
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
)


def _values(url: str, client: TestClient, bearer: dict[str, str]) -> dict[str, str]:
    """The first page's cursor, and the first 8 characters of a listed user's UPN."""
    first = client.get("/api/v1/users", params={"tenant": "bench"}, headers=bearer).json()
    user = first["items"][len(first["items"]) // 2]
    return {"cursor": first["next_cursor"], "term": user["user_principal_name"][:8]}


def main(argv: list[str] | None = None) -> int:
    return webclient.main(
        "python -m benchmarks.web_users", __doc__, "300000", REQUESTS, _values, 9, argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
