"""Child side of W3: full syncs, then alternating rounds of admin edits and a timed delta sync."""

from __future__ import annotations

import ssl
import statistics
import time
from typing import Any

import httpx
from sqlalchemy import Engine, event, select

from benchmarks.syncer import connection_from, register
from licensewatch.graph.client import GraphClient
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


class _SqlClock:
    """Seconds spent executing SQL statements on an engine (commits not included)."""

    def __init__(self, engine: Engine) -> None:
        self.seconds = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, *_: Any) -> None:
        conn.info["w3_started"] = time.perf_counter()

    def _after(self, conn: Any, *_: Any) -> None:
        self.seconds += time.perf_counter() - conn.info.pop("w3_started")


def _recount(conn: dict[str, Any]) -> float:
    """Let the emulator recount consumedUnits for its new version; returns the seconds it took.

    The emulator computes /subscribedSkus' consumedUnits by walking every user once per change
    version (emulator/state.py `consumed_units`): 0.15-0.4 s at 300k users, ~10 ms at 10k.
    That cost is the emulator's, not licensewatch's (we assume Graph keeps such counts rather
    than walk a tenant per request; that is not measured here).
    """
    client = GraphClient(connection_from(conn))
    try:
        client.get_json("/organization")  # token and TLS handshake: not part of the recount
        started = time.perf_counter()
        client.get_json("/subscribedSkus")
        return time.perf_counter() - started
    finally:
        client.close()


class _Tenant:
    """One tenant of the child: its engine, full sync, users to edit and rounds measured."""

    def __init__(self, spec: dict[str, Any], changes: int, rounds: int) -> None:
        self.conn: dict[str, Any] = spec["connection"]
        self.engine = make_engine(spec["db_url"])
        self.pk = register(self.engine, self.conn)
        full = run_sync(self.engine, self.pk, connection_from(self.conn))
        if not full.ok:
            raise RuntimeError(f"full sync failed: {full.error_message}")
        self.full_seconds = full.duration_ms / 1000
        self.targets = _users(self.engine, self.pk, changes * rounds)  # new users every round
        self.sql = _SqlClock(self.engine)
        self.done: list[dict[str, Any]] = []

    def edit(self, number: int, n: int) -> None:
        conn = self.conn
        url = f"{conn['base_url']}/_emulator/tenants/{conn['tenant_id']}/mutations"
        verify = ssl.create_default_context(cafile=conn["ca_bundle"])
        with httpx.Client(verify=verify, trust_env=False, timeout=60.0) as client:
            for index, (user_id, _) in enumerate(self.targets[number * n : (number + 1) * n]):
                _edit(client, url, _MIX[index % len(_MIX)], user_id, number * n + index)

    def delta(self, recount: float | None) -> None:
        self.sql.seconds = 0.0
        wall, cpu = time.perf_counter(), time.process_time()
        result = run_sync(self.engine, self.pk, connection_from(self.conn), mode="delta")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if not result.ok or result.kind != SyncKind.DELTA:
            raise RuntimeError(f"delta sync: {result.status} {result.kind} {result.error_message}")
        self.done.append(
            {
                "seconds": wall,
                "cpu": cpu,
                "sql": self.sql.seconds,
                "recount": recount,
                "requests": result.requests,
                "changes": result.changes,
            }
        )

    def report(self) -> dict[str, Any]:
        self.engine.dispose()
        done = self.done
        primed = [r for r in done if r["recount"] is not None] or done
        cold = [r for r in done if r["recount"] is None]
        return {
            "rounds": done,
            "seconds": statistics.median(r["seconds"] for r in primed),
            "cold_seconds": statistics.median(r["seconds"] for r in cold),
            "cpu": statistics.median(r["cpu"] for r in primed),
            "sql": statistics.median(r["sql"] for r in primed),
            "recount": statistics.median(r["recount"] or 0.0 for r in primed),
            "requests": done[0]["requests"],
            "changes": done[0]["changes"],
            "full_seconds": self.full_seconds,
        }


def delta(spec: dict[str, Any]) -> dict[str, Any]:
    """Full syncs, then `rounds` × (edits, delta) per tenant, the tenants' rounds alternating.

    Odd rounds let the emulator recount consumedUnits before the delta; even rounds (round 0
    first, right after the full sync) do not.
    """
    n, rounds = int(spec["changes"]), int(spec["rounds"])
    tenants = [_Tenant(one, n, rounds) for one in spec["tenants"]]
    for number in range(rounds):
        for tenant in tenants:
            tenant.edit(number, n)
            tenant.delta(_recount(tenant.conn) if number % 2 else None)
    return {"tenants": [tenant.report() for tenant in tenants]}
