"""Child side of W3: a full sync, `changes` admin edits through the control API, a delta sync."""

from __future__ import annotations

import ssl
import time
from typing import Any

import httpx
from sqlalchemy import select

from benchmarks.syncer import connection_from, register
from licensewatch.storage.database import make_engine, read_transaction
from licensewatch.storage.models import SyncKind, Tenant
from licensewatch.storage.writers import USERS
from licensewatch.sync.runner import run_sync

# The mix of edits (each one changed user): attributes, sign-in state, joiners and leavers.
_MIX = ("update", "update", "disable", "update", "hire", "delete", "update", "disable")


def _users(engine: Any, tenant_pk: int, n: int) -> list[tuple[str, str | None]]:
    with read_transaction(engine) as db:
        dataset = db.scalar(select(Tenant.dataset_id).where(Tenant.id == tenant_pk))
        query = (
            select(USERS.c.id, USERS.c.user_principal_name)
            .where(USERS.c.dataset_id == dataset, USERS.c.user_type == "Member")
            .order_by(USERS.c.id)
            .limit(n)
        )
        return [(row[0], row[1]) for row in db.execute(query)]


def _edit(client: httpx.Client, url: str, op: str, user: str, index: int) -> None:
    body: dict[str, Any] = {"op": op, "user": user}
    if op == "update":
        body["changes"] = {"department": f"Bench {index}", "jobTitle": f"Benchmarker {index}"}
    elif op == "hire":
        body = {"op": "hire", "displayName": f"Bench Hire {index}", "skus": []}
    client.post(url, json=body).raise_for_status()


def delta(spec: dict[str, Any]) -> dict[str, Any]:
    conn = spec["connection"]
    engine = make_engine(spec["db_url"])
    tenant_pk = register(engine, conn)
    full = run_sync(engine, tenant_pk, connection_from(conn))
    if not full.ok:
        raise RuntimeError(f"full sync failed: {full.error_message}")
    n = int(spec["changes"])
    url = f"{conn['base_url']}/_emulator/tenants/{conn['tenant_id']}/mutations"
    verify = ssl.create_default_context(cafile=conn["ca_bundle"])
    with httpx.Client(verify=verify, trust_env=False, timeout=60.0) as client:
        for index, (user_id, _) in enumerate(_users(engine, tenant_pk, n)):
            _edit(client, url, _MIX[index % len(_MIX)], user_id, index)
    wall, cpu = time.perf_counter(), time.process_time()
    result = run_sync(engine, tenant_pk, connection_from(conn), mode="delta")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if not result.ok or result.kind != SyncKind.DELTA:
        raise RuntimeError(f"delta sync: {result.status} {result.kind} {result.error_message}")
    engine.dispose()
    return {
        "users": result.users_read,
        "pages": result.pages_read,
        "requests": result.requests,
        "changes": result.changes,
        "seconds": wall,
        "cpu": cpu,
        "full_seconds": full.duration_ms / 1000,
    }
