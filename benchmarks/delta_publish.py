"""What a delta's publish pays for the read models: a full rebuild against the per-user update.

`python -m benchmarks.delta_publish [--sizes 100000,300000] [--databases sqlite,postgresql]`
loads `benchmarks.findings`' tenant (prices on two products), builds its read models, then per
round changes 100 random users in one write transaction as a delta applies them (a third lose a
licence, the others are disabled or enabled; the tenant row is updated) and times the publish
callback on it: `full` as before (every rule and the costs), `incremental` as a delta now calls
it (the changed users' rows). Each round is rolled back, so both modes meet the same data; they
alternate, and the median and maximum of each are printed (docs/performance.md).
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

from sqlalchemy import Engine, delete, select, text, update

from benchmarks.databases import bench_engine, each_size_and_engine
from benchmarks.findings import build
from licensewatch.domain.changed_users import ChangedUsers
from licensewatch.intelligence.prices import set_price
from licensewatch.intelligence.read_models.build import publish_read_models
from licensewatch.storage.database import write_transaction
from licensewatch.storage.models import Tenant, User, UserLicense, utcnow

CHANGED = 100
ROUNDS = 5  # per mode


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
        changed = ChangedUsers(names, tenant.updated_at) if mode == "incremental" else None
        started = time.perf_counter()
        publish_read_models(connection, tenant_pk, changed=changed)
        raise _Undo(time.perf_counter() - started)


def run(kind: str, users: int, folder: Path) -> None:
    with bench_engine(kind, folder) as engine:
        started = time.perf_counter()
        tenant_pk = build(engine, users)
        set_price(engine, "SPE_E3", "36.00", "EUR", "monthly")
        set_price(engine, "SPE_E5", "684.00", "EUR", "annual")  # monthly 57.00
        with write_transaction(engine) as connection:
            publish_read_models(connection, tenant_pk)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        built = time.perf_counter() - started
        print(f"\n{kind}, {users:,} users (built in {built:.0f} s)\n")
        print("| database | users | publish of a 100-user delta | median s | max s |")
        print("|---|---|---|---|---|")
        rng = random.Random(7)
        took: dict[str, list[float]] = {"full": [], "incremental": []}
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
