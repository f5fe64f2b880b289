"""What a delta's publish pays for the read models: a full rebuild against the per-user update.

`python -m benchmarks.delta_publish [--sizes 100000,300000] [--databases sqlite,postgresql]`
loads `benchmarks.findings`' tenant with W5's prices (every product) and usage collection
(`benchmarks.webdata_usage`: removals and downgrades to recommend), builds its read models
(findings, costs and recommendations), then per
round changes 100 random users in one write transaction as a delta applies them (a third lose a
licence, the others are disabled or enabled; the tenant row is updated) and times the publish
callback on it: `full` as before (every rule and the costs), `incremental` as a delta now calls
it (the changed users' rows). Each round is rolled back, so both modes meet the same data; they
alternate, and the median and maximum of each are printed (docs/performance.md).
`LICENSEWATCH_BENCH_ROUNDS` (5) and `LICENSEWATCH_BENCH_MODES` ("full,incremental") shorten it.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from pathlib import Path

from sqlalchemy import Engine, delete, select, text, update

from benchmarks.databases import bench_engine, each_size_and_engine
from benchmarks.findings import build
from benchmarks.webdata_usage import add_prices, add_usage
from licensewatch.domain.changed_users import ATTRIBUTES, ChangedUsers, UserBefore
from licensewatch.intelligence.read_models.build import publish_read_models
from licensewatch.storage.database import write_transaction
from licensewatch.storage.models import Tenant, User, UserLicense, utcnow
from licensewatch.storage.models.read_models import RecommendationSummary

CHANGED = 100
ROUNDS = int(os.environ.get("LICENSEWATCH_BENCH_ROUNDS", "5"))  # per mode
MODES = os.environ.get("LICENSEWATCH_BENCH_MODES", "full,incremental").split(",")
_ASSIGNED = ("Active", "ActiveWithError")


class _Undo(Exception):
    """Rolls a round back: the next one meets the same data."""


def _round(engine: Engine, tenant_pk: int, users: int, rng: random.Random, mode: str) -> float:
    """One delta's changes and its publish callback, timed; rolled back afterwards."""
    try:
        return _changed_and_published(engine, tenant_pk, users, rng, mode)
    except _Undo as undo:
        return float(undo.args[0])


def _changed_and_published(
    engine: Engine, tenant_pk: int, users: int, rng: random.Random, mode: str
) -> float:
    with write_transaction(engine) as connection:
        tenant = connection.execute(
            select(Tenant.dataset_id, Tenant.updated_at).where(Tenant.id == tenant_pk)
        ).one()
        picked = [f"{n:08x}-2222-4000-8000-{n:012x}" for n in rng.sample(range(users), CHANGED)]
        mine = (User.dataset_id == tenant.dataset_id) & User.id.in_(picked)
        names = frozenset(connection.scalars(select(User.user_principal_name).where(mine)))
        # What the delta keeps of each user before it changes them (the costs move by it).
        held: dict[str, set[str]] = {uid: set() for uid in picked}
        licences = select(UserLicense.user_id, UserLicense.sku_id).where(
            UserLicense.dataset_id == tenant.dataset_id,
            UserLicense.user_id.in_(picked),
            UserLicense.state.in_(_ASSIGNED),
        )
        for uid, sku in connection.execute(licences):
            held[uid].add(sku)
        columns = [getattr(User, name) for name in ATTRIBUTES]
        before = {
            row[0]: UserBefore(tuple(row[1:]), frozenset(held[row[0]]))
            for row in connection.execute(select(User.id, *columns).where(mine))
        }
        for index, uid in enumerate(picked):
            if index % 3 == 0:
                connection.execute(
                    delete(UserLicense).where(
                        UserLicense.dataset_id == tenant.dataset_id, UserLicense.user_id == uid
                    )
                )
            else:
                connection.execute(
                    update(User)
                    .where(User.dataset_id == tenant.dataset_id, User.id == uid)
                    .values(account_enabled=~User.account_enabled)
                )
        connection.execute(update(Tenant).where(Tenant.id == tenant_pk).values(updated_at=utcnow()))
        changed = None
        if mode == "incremental":
            changed = ChangedUsers(names, tenant.updated_at, frozenset(picked), before)
        started = time.perf_counter()
        publish_read_models(connection, tenant_pk, changed=changed)
        raise _Undo(time.perf_counter() - started)


def run(kind: str, users: int, folder: Path) -> None:
    with bench_engine(kind, folder) as engine:
        started = time.perf_counter()
        tenant_pk = build(engine, users)
        with write_transaction(engine) as connection:
            add_prices(connection, tenant_pk)
            add_usage(connection, tenant_pk)
        with write_transaction(engine) as connection:
            publish_read_models(connection, tenant_pk)
            recommendations = connection.scalar(
                select(RecommendationSummary.count).where(
                    RecommendationSummary.tenant_id == tenant_pk
                )
            )
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        built = time.perf_counter() - started
        print(
            f"\n{kind}, {users:,} users, {recommendations or 0:,} recommendations"
            f" (built in {built:.0f} s)\n"
        )
        print("| database | users | publish of a 100-user delta | median s | max s |")
        print("|---|---|---|---|---|")
        rng = random.Random(7)
        took: dict[str, list[float]] = {mode: [] for mode in MODES}
        for _ in range(ROUNDS):
            for mode in took:
                took[mode].append(_round(engine, tenant_pk, users, rng, mode))
        for mode, times in took.items():
            median, worst = statistics.median(times), max(times)
            print(f"| {kind} | {users:,} | {mode} | {median:.2f} | {worst:.2f} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    return each_size_and_engine(
        "python -m benchmarks.delta_publish", __doc__, "100000,300000", run, argv
    )


if __name__ == "__main__":
    raise SystemExit(main())
