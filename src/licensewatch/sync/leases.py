"""Tenant leases in `tenant_schedules`: claimed, renewed and released by conditional UPDATEs."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, exists, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from licensewatch.storage.database import write_transaction
from licensewatch.storage.models import SyncRun, SyncStatus, Tenant, TenantSchedule, utcnow

# Long enough to outlast one page's retries (the Graph client waits at most 2 min per request).
DEFAULT_LEASE_TTL = timedelta(minutes=10)


def new_owner(prefix: str = "daemon") -> str:
    """A lease owner name unique to this process: `daemon:host:pid:random`."""
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:200]


@dataclass(frozen=True, slots=True)
class Claim:
    """A lease held; `resumed` when the owner already held it (a retried job of a dead worker)."""

    tenant_pk: int
    owner: str
    resumed: bool


def ensure_schedules(engine: Engine) -> int:
    """Give every tenant a schedule row (due now); concurrent callers insert each row once."""
    missing = select(Tenant.id, literal(0)).where(
        ~exists().where(TenantSchedule.tenant_id == Tenant.id)
    )
    columns = ["tenant_id", "consecutive_failures"]
    with write_transaction(engine) as db:
        if db.dialect.name == "postgresql":
            pg = postgresql.insert(TenantSchedule).from_select(columns, missing)
            added = db.execute(pg.on_conflict_do_nothing()).rowcount
        else:
            lite = sqlite.insert(TenantSchedule).from_select(columns, missing)
            added = db.execute(lite.on_conflict_do_nothing()).rowcount
    return max(added, 0)  # psycopg reports -1 when nothing was inserted


def _take(
    db: Connection, tenant_pk: int, owner: str, expires: datetime, *conditions: ColumnElement[bool]
) -> bool:
    statement = (
        update(TenantSchedule)
        .where(TenantSchedule.tenant_id == tenant_pk, *conditions)
        .values(lease_owner=owner, lease_expires_at=expires)
    )
    return db.execute(statement).rowcount == 1


def claim(
    engine: Engine,
    tenant_pk: int,
    owner: str,
    ttl: timedelta = DEFAULT_LEASE_TTL,
    *,
    due_only: bool = False,
    abandon_dead: bool = False,
) -> Claim | None:
    """Take the tenant's lease if it is free, expired or already ours; None when another holds it.

    Each attempt is one conditional UPDATE, atomic on SQLite and PostgreSQL alike: of two
    daemons racing for a tenant, exactly one sees a row updated. `due_only`: a free lease is
    taken only while the tenant is still due (not synced by someone else since it was found
    due). `abandon_dead`: abandon_dead_runs in the same transaction.
    """
    now = utcnow()
    expires = now + ttl
    with write_transaction(engine) as db:
        if _take(db, tenant_pk, owner, expires, TenantSchedule.lease_owner == owner):
            held = Claim(tenant_pk, owner, resumed=True)
        else:
            conditions = [
                or_(
                    TenantSchedule.lease_owner.is_(None),
                    TenantSchedule.lease_expires_at.is_(None),
                    TenantSchedule.lease_expires_at < now,
                )
            ]
            if due_only:
                next_at = TenantSchedule.next_sync_at
                conditions.append(or_(next_at.is_(None), next_at <= now))
            if not _take(db, tenant_pk, owner, expires, *conditions):
                return None
            held = Claim(tenant_pk, owner, resumed=False)
        if abandon_dead:
            _abandon(db, held, ttl, now)
    return held


def renew(engine: Engine, tenant_pk: int, owner: str, ttl: timedelta = DEFAULT_LEASE_TTL) -> bool:
    """Push the lease's expiry out; False when it is no longer ours (expired and taken over)."""
    with write_transaction(engine) as db:
        return _take(db, tenant_pk, owner, utcnow() + ttl, TenantSchedule.lease_owner == owner)


def release(engine: Engine, tenant_pk: int, owner: str) -> bool:
    """Give the lease back (only if still ours)."""
    with write_transaction(engine) as db:
        statement = (
            update(TenantSchedule)
            .where(TenantSchedule.tenant_id == tenant_pk, TenantSchedule.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
        )
        return db.execute(statement).rowcount == 1


def release_all(engine: Engine, owner: str) -> int:
    """Give back every lease this owner holds (a stopping daemon)."""
    with write_transaction(engine) as db:
        statement = (
            update(TenantSchedule)
            .where(TenantSchedule.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
        )
        return db.execute(statement).rowcount


def abandon_dead_runs(engine: Engine, held: Claim, ttl: timedelta = DEFAULT_LEASE_TTL) -> int:
    """Mark the tenant's RUNNING runs of dead lease holders FAILED, so a new run may start.

    Holding the lease proves the previous holder stopped renewing it: its run is dead if its
    heartbeat is older than a lease, or at once when the same job re-claims its own lease (the
    queue retried the job of a killed worker).
    """
    with write_transaction(engine) as db:
        return _abandon(db, held, ttl, utcnow())


def _abandon(db: Connection, held: Claim, ttl: timedelta, now: datetime) -> int:
    conditions: list[ColumnElement[bool]] = [
        SyncRun.tenant_id == held.tenant_pk,
        SyncRun.status == SyncStatus.RUNNING,
    ]
    if not held.resumed:
        conditions.append(or_(SyncRun.heartbeat_at.is_(None), SyncRun.heartbeat_at < now - ttl))
    statement = (
        update(SyncRun)
        .where(*conditions)
        .values(
            status=SyncStatus.FAILED,
            finished_at=now,
            error_kind="abandoned",
            error_message="the worker holding this tenant stopped without finishing",
        )
    )
    return db.execute(statement).rowcount
