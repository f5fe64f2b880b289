"""A worker's warm-up before its first request: the router's tables and the landing pages' reads.

Measured in a fresh process on W5's 300k-user tenant (`python -m benchmarks.web_first`), a
worker's first request paid for work done once per process: FastAPI builds a router's route
table (each route's dependencies and validators) when it first matches a request, ≈ 40–70 ms
for the REST API; SQLAlchemy compiles each statement on its first use with the engine
(≈ 1 ms each, the dashboard runs two dozen); the dashboard's sparklines are read into their
process memo. Done here, as the templates are compiled, before the worker accepts requests.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine
from starlette.types import ASGIApp

from licensewatch.intelligence.renewals import renewal_plans
from licensewatch.intelligence.savings import tenant_savings
from licensewatch.storage.database import session_scope
from licensewatch.web.queries.balance import balance_rows, trends
from licensewatch.web.queries.tenants import tenant_summaries

log = logging.getLogger(__name__)
# Paths no route answers: matching them walks (and so builds) every router, pages and API.
UNMATCHED = ("/api/v1/-warm-up", "/-warm-up")


async def warm_up(app: ASGIApp, engine: Engine) -> None:
    """Build the routers' tables, then read what the dashboard and renewals pages read."""
    for path in UNMATCHED:
        await _unmatched_request(app, path)
    await anyio.to_thread.run_sync(warm_reads, engine)


async def _unmatched_request(app: ASGIApp, path: str) -> None:
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 0), "server": ("localhost", 80),
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        return None  # the 404 is not sent anywhere

    await app(scope, receive, send)


def warm_reads(engine: Engine) -> None:
    """The dashboard's reads (every tenant: its sparklines are kept per process) and one
    tenant's renewal plan (its statements compiled). A failure only leaves them cold."""
    try:
        with session_scope(engine, write=False) as session:
            names = [summary.name for summary in tenant_summaries(session)]
            for tenant in (None, *names[:1]):
                balance_rows(session, tenant)
                trends(session, tenant)
        tenant_savings(engine, names, limit=0)
        for name in names[:1]:
            renewal_plans(engine, name)
    except Exception:
        log.warning(
            "the web worker's warm-up read failed; its first requests read cold", exc_info=True
        )
