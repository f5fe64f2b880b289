"""W5's data: one synthetic tenant bulk-loaded, with the history a daemon builds over weeks.

The users and licences are `benchmarks.findings.build`'s (the emulator's catalogue, one to three
products per user). On top: what a completed sync stores at publish time (per-SKU assignment
aggregates, the run's user count), a subscription per product, 2,000 earlier runs every 15
minutes with a unit snapshot per product (a failed one now and then), 100,000 licence changes
over the last 20 days, list prices and a usage-report collection (`webdata_usage`). Written
straight through the storage models: no emulator process and no sync, so a 1M-user tenant takes
about a minute instead of an emulator world of several GB.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, text, update

from benchmarks.findings import build
from benchmarks.webdata_usage import add_prices, add_usage
from licensewatch.intelligence.read_models.build import publish_read_models
from licensewatch.storage.models import (
    LicenceChange,
    Sku,
    SkuSnapshot,
    Subscription,
    SyncRun,
    SyncStatus,
    User,
)
from licensewatch.sync.changes import sku_aggregates

RUNS = 2_000
CHANGES = 100_000
BATCH = 10_000
_KINDS = ("licence_added", "licence_removed", "account_disabled", "assignment_state_changed")


def build_web(engine: Engine, users: int, seed: int = 1) -> int:
    """Write the tenant and its history; return the tenant's primary key."""
    tenant = build(engine, users, seed)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with engine.begin() as db:
        dataset = db.execute(select(SyncRun.id).where(SyncRun.tenant_id == tenant)).scalar_one()
        db.execute(
            update(SyncRun)
            .where(SyncRun.id == dataset)
            .values(status=SyncStatus.COMPLETED, started_at=now - timedelta(minutes=2),
                    finished_at=now, users_read=users, pages_read=users // 999 + 1)
        )  # fmt: skip
        skus = list(db.execute(select(Sku.sku_id, Sku.sku_part_number)))
        for sku_id, (direct, grouped, errors) in sku_aggregates(db, dataset).items():
            db.execute(
                update(Sku)
                .where(Sku.tenant_id == tenant, Sku.sku_id == sku_id)
                .values(direct_assigned=direct, group_assigned=grouped,
                        assignment_errors=errors, consumed=direct + grouped)
            )  # fmt: skip
        db.execute(
            insert(Subscription),
            [
                {"tenant_id": tenant, "id": f"sub-{n}", "sku_id": sku_id,
                 "sku_part_number": part, "status": "Enabled", "total_licenses": users,
                 "is_trial": False, "created_at": now - timedelta(days=300),
                 "next_lifecycle_at": now + timedelta(days=5 + 11 * n)}
                for n, (sku_id, part) in enumerate(skus)
            ],
        )  # fmt: skip
        _history(db, tenant, skus, users, now)
        _changes(db, tenant, dataset, skus, now, rng)
        add_prices(db, tenant)
        add_usage(db, tenant, seed)
        # What a sync's publish step stores: the findings and costs the pages read.
        publish_read_models(db, tenant)
    with engine.begin() as db:
        db.execute(text("ANALYZE"))
    return tenant


def _history(db: Any, tenant: int, skus: list[Any], users: int, now: datetime) -> None:
    for start in range(0, RUNS, 500):
        runs, snapshots = [], []
        for n in range(start, min(start + 500, RUNS)):
            when = now - timedelta(minutes=15 * (RUNS - n))
            failed = n % 97 == 0
            runs.append(
                {"tenant_id": tenant, "kind": "delta",
                 "status": SyncStatus.FAILED if failed else SyncStatus.COMPLETED,
                 "started_at": when - timedelta(seconds=4), "finished_at": when,
                 "users_read": 40, "error_kind": "throttled" if failed else None}
            )  # fmt: skip
        ids = list(db.execute(insert(SyncRun).returning(SyncRun.id, SyncRun.status), runs))
        for (run_id, status), run in zip(ids, runs, strict=True):
            if status != SyncStatus.COMPLETED:
                continue
            for k, (sku_id, _) in enumerate(skus):
                snapshots.append(
                    {"run_id": run_id, "sku_id": sku_id, "tenant_id": tenant,
                     "captured_at": run["finished_at"], "enabled": users, "warning": 0,
                     "suspended": 0, "locked_out": 0,
                     "consumed": users // 2 + (run_id * 7 + k) % 500}
                )  # fmt: skip
        db.execute(insert(SkuSnapshot), snapshots)


def _changes(
    db: Any,
    tenant: int,
    dataset: int,
    skus: list[Any],
    now: datetime,
    rng: random.Random,
) -> None:
    some = list(
        db.execute(
            select(User.id, User.user_principal_name)
            .where(User.dataset_id == dataset)
            .order_by(User.user_principal_name)
            .limit(20_000)
        )
    )
    rows: list[dict[str, Any]] = []
    for n in range(CHANGES):
        user = some[rng.randrange(len(some))]
        rows.append(
            {"tenant_id": tenant, "run_id": dataset, "kind": _KINDS[n % len(_KINDS)],
             "occurred_at": now - timedelta(seconds=rng.randrange(20 * 86_400)),
             "user_id": user.id, "user_principal_name": user.user_principal_name,
             "sku_id": skus[n % len(skus)][0], "detail": {"from": None, "to": "Active"}}
        )  # fmt: skip
        if len(rows) >= BATCH:
            db.execute(insert(LicenceChange), rows)
            rows.clear()
    if rows:
        db.execute(insert(LicenceChange), rows)
