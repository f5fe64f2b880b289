"""Child side of a measured sync: register the tenant, run the sync, digest what it stored."""

from __future__ import annotations

import cProfile
import hashlib
import logging
import time
from typing import Any

from sqlalchemy import Engine, select

from licensewatch.graph.connection import ClientSecretCredential, GraphConnection
from licensewatch.storage.database import make_engine, read_transaction, session_scope
from licensewatch.storage.models import Tenant
from licensewatch.storage.writers import USER_COLUMNS, USER_LICENSE_COLUMNS, USER_LICENSES, USERS
from licensewatch.sync.runner import run_sync
from licensewatch.sync.work import SyncProgress


def connection_from(spec: dict[str, Any]) -> GraphConnection:
    return GraphConnection(
        tenant=spec["tenant_id"],
        client_id=spec["client_id"],
        credential=ClientSecretCredential(spec["client_secret"]),
        authority_host=spec["base_url"],
        graph_endpoint=spec["base_url"],
        ca_bundle=spec["ca_bundle"],
    )


def register(engine: Engine, spec: dict[str, Any]) -> int:
    with session_scope(engine) as session:
        tenant = Tenant(name="bench", directory_id=spec["tenant_id"], client_id=spec["client_id"])
        session.add(tenant)
        session.flush()
        return tenant.id


def digest(engine: Engine, tenant_pk: int) -> str:
    """A hash of the stored users and licences of the tenant's current dataset (order-free)."""
    found = hashlib.sha256()
    with read_transaction(engine) as db:
        dataset = db.scalar(select(Tenant.dataset_id).where(Tenant.id == tenant_pk))
        users = select(*(USERS.c[c] for c in USER_COLUMNS[1:])).where(USERS.c.dataset_id == dataset)
        licences = select(*(USER_LICENSES.c[c] for c in USER_LICENSE_COLUMNS[1:])).where(
            USER_LICENSES.c.dataset_id == dataset
        )
        for statement in (
            users.order_by(USERS.c.id),
            licences.order_by(*licences.selected_columns),
        ):
            for row in db.execute(statement):
                found.update(repr(tuple(row)).encode())
    return found.hexdigest()


def sync(spec: dict[str, Any]) -> dict[str, Any]:
    engine = make_engine(spec["db_url"])
    tenant_pk = register(engine, spec["connection"])
    shards = int(spec.get("shards", 1))
    processes = int(spec.get("shard_processes", 1))
    if spec.get("repeat"):  # measure a repeat full sync: the tenant's data is stored already
        first = run_sync(
            engine,
            tenant_pk,
            connection_from(spec["connection"]),
            shards=shards,
            shard_processes=processes,
        )
        if not first.ok:
            raise RuntimeError(f"first sync failed: {first.error_kind}: {first.error_message}")
    phases: dict[str, float] = {}

    def progress(step: SyncProgress) -> None:
        phases.setdefault(step.phase, time.perf_counter())

    profiler = cProfile.Profile() if spec.get("profile") else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    shard_costs = _ShardCosts()
    logging.getLogger("licensewatch.sync.shard_run").addHandler(shard_costs)
    logging.getLogger("licensewatch.sync.shard_run").setLevel(logging.INFO)
    result = run_sync(
        engine,
        tenant_pk,
        connection_from(spec["connection"]),
        progress=progress,
        shards=shards,
        shard_processes=processes,
    )
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(spec["profile"])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if not result.ok:
        raise RuntimeError(f"sync failed: {result.error_kind}: {result.error_message}")
    users_phase = phases.get("commit", 0.0) - phases.get("users", 0.0)
    report = {
        "users": result.users_read,
        "pages": result.pages_read,
        "requests": result.requests,
        "seconds": wall,
        "cpu": cpu + shard_costs.cpu,  # the shard processes' CPU too
        "shard_rss_kib": shard_costs.rss_kib,  # their peak RSS, summed (0: no processes)
        "users_seconds": users_phase,
        "digest": digest(engine, tenant_pk) if spec.get("digest") else None,
    }
    engine.dispose()
    return report


class _ShardCosts(logging.Handler):
    """The shard processes' CPU and summed peak RSS, as `sync/shard_run.py` logs them."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.cpu, self.rss_kib = 0.0, 0

    def emit(self, record: logging.LogRecord) -> None:
        self.cpu += float(getattr(record, "shard_cpu", 0.0))
        self.rss_kib += int(getattr(record, "shard_rss_kib", 0))
