"""Reliability test helpers: emulated tenants with faults, tunable clients, snapshots vs truth."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, MetaData, and_, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from database_fixtures import POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, add_tenant
from emulator_fixtures import EmulatorFactory, connect
from licensewatch.emulator.app import create_app
from licensewatch.emulator.faults import FaultInjector
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import RunningEmulator
from licensewatch.emulator.state import ASSIGNED_STATES
from licensewatch.emulator.state import Tenant as EmulatedTenant
from licensewatch.emulator.truth import ground_truth
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.retry import RetryPolicy
from licensewatch.storage.database import read_transaction
from licensewatch.storage.models import Base, Sku, SyncRun, Tenant, User, UserLicense
from licensewatch.sync.runner import ClientFactory

# (sku_id, enabled, warning, suspended, locked_out, consumed, direct, via groups)
BalanceKey = tuple[str, int, int, int, int, int, int, int]
UserKey = tuple[str, str | None, bool]
LicenceKey = tuple[str, str, str | None, str | None]


@dataclass(frozen=True)
class Rig:
    """An emulator over TLS with its fault injector and first tenant."""

    emulator: RunningEmulator
    injector: FaultInjector
    tenant: EmulatedTenant

    def connection(self, tenant: EmulatedTenant | None = None) -> GraphConnection:
        return connect(self.emulator, tenant or self.tenant)


def start_rig(
    make_emulator: EmulatorFactory,
    cert_dir: Path,
    *,
    tenants: int = 1,
    users: int = 60,
    seed: int = 1,
    scenario: str = "messy",
    token_lifetime_seconds: int = 3599,
    options: EmulatorOptions | None = None,
) -> Rig:
    world = build_world(
        tenants=tenants,
        users=users,
        seed=seed,
        scenario=scenario,
        cert_dir=cert_dir,
        token_lifetime_seconds=token_lifetime_seconds,
    )
    app = create_app(world, options or EmulatorOptions())
    emulator = make_emulator(world, app=app)
    injector: FaultInjector = app.state.injector
    return Rig(emulator, injector, next(iter(world.tenants.values())))


def client_factory(
    *,
    attempts: int = 4,
    total_wait: float = 5.0,
    timeout: float = 30.0,
    base_delay: float = 0.02,
    sync_budget: float = 1.0,
) -> ClientFactory:
    """Real sleeping (Retry-After is honoured) with a small budget, floor and backoff base."""
    policy = RetryPolicy(
        max_attempts=attempts,
        max_total_wait=total_wait,
        base_delay=base_delay,
        max_delay=0.5,
        min_delay=base_delay,
        sync_budget=sync_budget,
        pause=base_delay,
    )

    def build(connection: GraphConnection) -> GraphClient:
        return GraphClient(connection, retry=policy, timeout=timeout)

    return build


def register(engine: Engine, tenant: EmulatedTenant) -> int:
    return add_tenant(engine, tenant.domain, tenant.tenant_id)


@dataclass(frozen=True)
class Snapshot:
    """What readers see of one tenant: balance numbers, users and their licences."""

    dataset: int | None
    balance: frozenset[BalanceKey]
    users: frozenset[UserKey]
    licences: frozenset[LicenceKey]

    @property
    def numbers(self) -> tuple[frozenset[BalanceKey], frozenset[UserKey]]:
        return self.balance, self.users


def snapshot(engine: Engine, tenant_pk: int) -> Snapshot:
    """One consistent read (a single snapshot) of the tenant's current data."""
    with read_transaction(engine) as connection, Session(bind=connection) as session:
        dataset = session.scalar(select(Tenant.dataset_id).where(Tenant.id == tenant_pk))
        skus = session.scalars(select(Sku).where(Sku.tenant_id == tenant_pk))
        balance = frozenset(
            (
                s.sku_id,
                s.enabled,
                s.warning,
                s.suspended,
                s.locked_out,
                s.consumed,
                s.direct_assigned,
                s.group_assigned,
            )
            for s in skus
        )
        users = frozenset(
            (u.id, u.user_principal_name, bool(u.account_enabled))
            for u in session.scalars(select(User).where(User.dataset_id == dataset))
        )
        rows = session.scalars(select(UserLicense).where(UserLicense.dataset_id == dataset))
        licences = frozenset((x.user_id, x.sku_id, x.assigned_by_group, x.state) for x in rows)
    return Snapshot(dataset, balance, users, licences)


def truth(tenant: EmulatedTenant) -> Snapshot:
    """The same view computed from the emulator's model (`truth.ground_truth`), not via Graph."""
    facts = ground_truth(tenant)
    keys = ("enabled", "warning", "suspended", "locked_out", "consumed", "direct", "via_group")
    balance = frozenset((s["sku_id"], *(int(s[k]) for k in keys)) for s in facts["skus"])
    people = [user for _, user in tenant.iter_users_from(0)]
    assert len(people) == facts["users"]["total"]
    users = frozenset((u.id, u.user_principal_name, u.account_enabled) for u in people)
    licences = frozenset(
        (u.id, a.sku_id, a.assigned_by_group, a.state) for u in people for a in u.assignments
    )
    return Snapshot(None, balance, users, licences)


def same_data(left: Snapshot, right: Snapshot) -> bool:
    return (left.balance, left.users, left.licences) == (right.balance, right.users, right.licences)


def change_world(tenant: EmulatedTenant, seed: int = 0) -> None:
    """Changes the truth visibly: a user leaves, a few lose their held licences."""
    people = [user for _, user in tenant.iter_users_from(0)]
    start = seed % max(1, len(people) - 8)
    tenant.delete_user(people[start].id)
    changed = 0
    for user in people[start + 1 :]:
        held = [
            a for a in user.assignments if a.state in ASSIGNED_STATES and not a.assigned_by_group
        ]
        for assignment in held:
            tenant.unassign(user.id, assignment.sku_id, None)
        changed += bool(held)
        if changed == 3:
            break


def runs(engine: Engine, tenant_pk: int) -> list[SyncRun]:
    with read_transaction(engine) as connection, Session(bind=connection) as session:
        statement = select(SyncRun).where(SyncRun.tenant_id == tenant_pk).order_by(SyncRun.id)
        found = list(session.scalars(statement))
        session.expunge_all()
        return found


def dataset_row_counts(engine: Engine) -> dict[int, int]:
    with read_transaction(engine) as connection:
        statement = select(User.dataset_id, func.count()).group_by(User.dataset_id)
        return {int(dataset): int(count) for dataset, count in connection.execute(statement)}


def orphan_references(engine: Engine) -> dict[str, int]:
    """Rows whose foreign key points at nothing, per constraint (works on both engines)."""
    metadata: MetaData = Base.metadata
    found: dict[str, int] = {}
    with read_transaction(engine) as connection:
        for table in metadata.sorted_tables:
            for constraint in table.foreign_key_constraints:
                parent = constraint.referred_table
                pairs = list(zip(constraint.columns, constraint.elements, strict=True))
                joined = and_(*(element.column == column for column, element in pairs))
                present = and_(*(column.is_not(None) for column, _ in pairs))
                missing = pairs[0][1].column.is_(None)
                statement = (
                    select(func.count())
                    .select_from(table.outerjoin(parent, joined))
                    .where(present, missing)
                )
                count = connection.scalar(statement) or 0
                if count:
                    found[f"{table.name}->{parent.name}"] = count
    return found


def pg_admin() -> psycopg.Connection[tuple[Any, ...]]:
    """A superuser connection to the server of the test databases (autocommit)."""
    return psycopg.connect(
        host=POSTGRES_HOST,
        port=POSTGRES_PORT,
        user=POSTGRES_USER,
        dbname="postgres",
        autocommit=True,
        connect_timeout=3,
    )


def pg_database(engine: Engine) -> str:
    name = make_url(str(engine.url)).database
    assert name
    return name


def terminate_backends(engine: Engine, *, only_pid: int | None = None) -> int:
    """pg_terminate_backend of the engine database's sessions (the server itself keeps running)."""
    with pg_admin() as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid() AND (%s::int IS NULL OR pid = %s)",
            (pg_database(engine), only_pid, only_pid),
        ).fetchall()
    return sum(1 for (done,) in rows if done)


def pg_connections(database: str) -> int:
    with pg_admin() as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchone()
    return int(row[0]) if row else 0


def open_fds(pid: int | None = None) -> int:
    return len(os.listdir(f"/proc/{pid or os.getpid()}/fd"))


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Temporarily set (or, with None, remove) environment variables."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
