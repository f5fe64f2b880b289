"""Child side of the reference reads: a bare httpx + orjson floor, and Microsoft's msgraph-sdk."""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Any

import httpx
import orjson

from licensewatch.sync.collectors import USER_FIELDS

SCOPE = "https://graph.microsoft.com/.default"


def _token(client: httpx.Client, spec: dict[str, Any]) -> str:
    response = client.post(
        f"{spec['base_url']}/{spec['tenant_id']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": spec["client_id"],
            "client_secret": spec["client_secret"],
            "scope": SCOPE,
        },
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def floor(spec: dict[str, Any]) -> dict[str, Any]:
    """The fastest plain read: one GET per page, orjson, no objects, no storage."""
    conn = spec["connection"]
    verify = ssl.create_default_context(cafile=conn["ca_bundle"])
    with httpx.Client(verify=verify, timeout=120.0, trust_env=False) as client:
        wall, cpu = time.perf_counter(), time.process_time()  # a sync's time has its token too
        headers = {"Authorization": f"Bearer {_token(client, conn)}"}
        url: str | None = f"{conn['base_url']}/v1.0/users"
        params: dict[str, str] | None = {"$select": USER_FIELDS, "$top": "999"}
        users = pages = 0
        while url:
            body = orjson.loads(client.get(url, params=params, headers=headers).content)
            users += len(body["value"])
            pages += 1
            url, params = body.get("@odata.nextLink"), None
    return {
        "users": users,
        "pages": pages,
        "seconds": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
    }


def msgraph(spec: dict[str, Any]) -> dict[str, Any]:
    """msgraph-sdk's GraphServiceClient + PageIterator, stopped after `cap` users."""
    from benchmarks.msgraph_read import read_users

    return asyncio.run(read_users(spec["connection"], int(spec["cap"]), USER_FIELDS.split(",")))
