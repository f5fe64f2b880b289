"""Findings and costs at scale: what a publish pays to build their read models, and what a
request pays to read them, on a synthetic tenant bulk-loaded into the database.

`python -m benchmarks.findings [--sizes 100000,1000000] [--databases sqlite,postgresql]`
prints, per size and database, each rule's and the costs' build time and count (computed in
the publish transaction), the whole publish step, then the readers: the findings page's data
(every rule's summary and its first 100 rows), the next page of one rule (keyset), the costs,
and the CSV export of every row (docs/performance.md). The tenant is written straight through
the storage models (no emulator process, no sync): the emulator's product catalogue with
Microsoft's plan sets, users holding one to three products directly or via a group, some
disabled plans, errors, guests, disabled accounts and sign-in dates.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from benchmarks.databases import bench_engine, each_size_and_engine
from licensewatch.emulator.products import builtin_catalog
from licensewatch.intelligence.findings import FindingRule
from licensewatch.intelligence.read_models.build import publish_read_models
from licensewatch.intelligence.read_models.readers import (
    findings_csv,
    stored_costs,
    stored_findings,
)
from licensewatch.storage.database import is_sqlite, session_scope, write_transaction
from licensewatch.storage.models import (
    Group,
    Sku,
    SkuServicePlan,
    SyncRun,
    Tenant,
    User,
    UserLicense,
)
from licensewatch.storage.models.read_models import CostLine, CostSummary, FindingSummary

BATCH = 20_000
# Every product of the emulator's catalogue, with its real plan sets: several contain another
# (Office 365 E3 in E5, Microsoft 365 E3 in E5, Business Standard in Premium, EMS E3 in E5, Entra
# ID P1 in P2...), so the overlapping-products rule has many pairs to check, as in a real tenant.
CATALOG = builtin_catalog()
# Probabilities of a user's licence mix; the last two overlap.
MIXES: tuple[tuple[float, tuple[str, ...]], ...] = (
    (0.50, ("SPE_E3",)),
    (0.12, ("SPE_E5",)),
    (0.06, ("ENTERPRISEPACK", "EMS")),
    (0.05, ("SPE_E3", "VISIOCLIENT")),
    (0.05, ("SPB",)),
    (0.04, ("SPE_E5", "POWER_BI_PRO", "PROJECTPROFESSIONAL")),
    (0.04, ("O365_BUSINESS_ESSENTIALS", "FLOW_FREE", "POWER_BI_STANDARD")),
    (0.04, ("Microsoft_Teams_Exploratory_Dept",)),
    (0.03, ()),
    (0.02, ("SPE_E3", "AAD_PREMIUM")),  # overlapping: Entra ID P1 is part of Microsoft 365 E3
    (0.01, ("ENTERPRISEPACK", "ENTERPRISEPREMIUM")),  # overlapping
)
# A plan some assignments disable (the overlap rule honours disabled plans).
DISABLED_PLAN = CATALOG["SPE_E3"].service_plans[-1].plan_id


def build(engine: Engine, users: int, seed: int = 1) -> int:
    """Write one tenant of `users` users; return its primary key."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    group = "00000000-3333-4000-8000-000000000000"
    with session_scope(engine) as session:
        tenant = Tenant(name="bench", directory_id="bench.example", client_id=group)
        session.add(tenant)
        session.flush()
        run = SyncRun(tenant_id=tenant.id, kind="full", status="succeeded", finished_at=now)
        session.add(run)
        session.flush()
        tenant.dataset_id, tenant.sign_in_data, tenant.user_count = run.id, True, users
        pk, dataset = tenant.id, run.id
        for product in CATALOG.values():
            session.add(
                Sku(tenant_id=pk, sku_id=product.sku_id, sku_part_number=product.part_number,
                    applies_to=product.applies_to, capability_status="Enabled", enabled=users,
                    consumed=users // 2, subscription_ids=[])
            )  # fmt: skip
            for plan in product.service_plans:
                session.add(
                    SkuServicePlan(tenant_id=pk, sku_id=product.sku_id,
                                   service_plan_id=plan.plan_id, service_plan_name=plan.name,
                                   applies_to=plan.applies_to)
                )  # fmt: skip
        session.add(Group(tenant_id=pk, id=group, display_name="All staff"))
    user_rows: list[dict[str, Any]] = []
    licence_rows: list[dict[str, Any]] = []
    weights = [w for w, _ in MIXES]
    with engine.begin() as connection:
        for n in range(users):
            uid = f"{n:08x}-2222-4000-8000-{n:012x}"
            seen = now - timedelta(days=rng.choice((1, 5, 20, 60, 120, 400)))
            user_rows.append(
                {"dataset_id": dataset, "id": uid, "tenant_id": pk,
                 "user_principal_name": f"user{n:07d}@bench.example",
                 "display_name": f"User {n}", "account_enabled": rng.random() > 0.03,
                 "user_type": "Guest" if rng.random() < 0.02 else "Member",
                 "department": f"Dept {n % 40}", "country": ("DE", "US", "FR")[n % 3],
                 "company_name": "Bench", "last_sign_in_at": seen if n % 11 else None}
            )  # fmt: skip
            mix = rng.choices(MIXES, weights)[0][1]
            for part in mix:
                via = group if part == "SPE_E3" and n % 4 == 0 else None
                disabled = DISABLED_PLAN if rng.random() < 0.05 else None
                error = "CountViolation" if rng.random() < 0.002 else None
                licence_rows.append(
                    {"dataset_id": dataset, "user_id": uid, "sku_id": CATALOG[part].sku_id,
                     "assigned_by_group": via, "disabled_plans": disabled, "error": error,
                     "state": "ActiveWithError" if error else "Active"}
                )  # fmt: skip
                if via and n % 40 == 0:  # also held directly
                    licence_rows.append({**licence_rows[-1], "assigned_by_group": None})
            if len(user_rows) >= BATCH:
                _flush(connection, user_rows, licence_rows)
        _flush(connection, user_rows, licence_rows)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return pk


def _flush(connection: Any, users: list[dict[str, Any]], licences: list[dict[str, Any]]) -> None:
    if users:
        connection.execute(insert(User), users)
    if licences:
        connection.execute(insert(UserLicense), licences)
    users.clear()
    licences.clear()


READS = 5  # each reader is timed this many times; the median is printed


def build_cost(engine: Engine, tenant_pk: int) -> Iterator[tuple[str, float, int]]:
    """What a publish pays: every rule and the costs computed and written in one transaction
    (the sync's publish callback, `publish_read_models`); then each part's compute time."""
    started = time.perf_counter()
    with write_transaction(engine) as connection:
        publish_read_models(connection, tenant_pk)
    total = time.perf_counter() - started
    with session_scope(engine, write=False) as session:
        for summary in session.scalars(select(FindingSummary).order_by(FindingSummary.rule)):
            yield f"build {summary.rule}", summary.build_ms / 1000, summary.count
        costs = session.get(CostSummary, tenant_pk)
        assert costs is not None, "the read models were not built (see the log)"
        lines = session.scalar(select(func.count()).select_from(CostLine)) or 0
        yield "build costs", costs.build_ms / 1000, lines
    yield "publish: all (compute + write)", total, 0


def _median(run: Callable[[], int]) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(READS):
        started = time.perf_counter()
        count = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), count


def reader_cost(engine: Engine, tenant: str) -> Iterator[tuple[str, float, int]]:
    """What a request pays: the readers of the findings and costs pages, API and CLI."""
    rule = FindingRule.INACTIVE_USERS

    def first_page() -> int:
        return sum(len(f.affected) for f in stored_findings(engine, tenant))

    (page,) = stored_findings(engine, tenant, rule=rule)

    def next_page() -> int:
        (found,) = stored_findings(engine, tenant, rule=rule, cursor=page.next_cursor)
        return len(found.affected)

    yield "read findings (page, 100/rule)", *_median(first_page)
    yield f"read next page of {rule.value}", *_median(next_page)
    yield "read costs", *_median(lambda: len(stored_costs(engine, tenant)[0].products))
    started = time.perf_counter()
    rows = sum(1 for _ in findings_csv(engine, [tenant]))
    yield "read CSV export (every row)", time.perf_counter() - started, rows


def run(kind: str, users: int, folder: Path) -> None:
    with bench_engine(kind, folder) as engine:
        started = time.perf_counter()
        pk = build(engine, users)
        backend = "sqlite" if is_sqlite(engine) else "postgresql"
        print(f"\n{backend}, {users:,} users (built in {time.perf_counter() - started:.0f} s)")
        for what, seconds, count in [*build_cost(engine, pk), *reader_cost(engine, "bench")]:
            print(f"  {what:<36} {seconds * 1000:>9.1f} ms  ({count:,})", flush=True)


def main(argv: list[str] | None = None) -> int:
    return each_size_and_engine(
        "python -m benchmarks.findings", __doc__, "100000,1000000", run, argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
