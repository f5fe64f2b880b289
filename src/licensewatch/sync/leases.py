"""Tenant leases in `tenant_schedules`: claimed, renewed and released by conditional UPDATEs."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Update,
    bindparam,
    exists,
    literal,
    or_,
    select,
    update,
)
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


def _lease_update(*conditions: ColumnElement[bool]) -> Update:
    """Set the lease of tenant `:pk` to `:owner` until `:expires` where the conditions hold.

    Built once at import: a fleet takes, renews and releases thousands of leases, and building
    and keying the same statement cost more CPU than the database took to run it.
    """
    s = TenantSchedule
    return (
        update(s)
        .where(s.tenant_id == bindparam("pk"), *conditions)
        .values(
            lease_owner=bindparam("owner", type_=s.lease_owner.type),
            lease_expires_at=bindparam("expires", type_=s.lease_expires_at.type),
        )
    )


_NOW = bindparam("now", type_=TenantSchedule.lease_expires_at.type)
_FREE = or_(
    TenantSchedule.lease_owner.is_(None),
    TenantSchedule.lease_expires_at.is_(None),
    TenantSchedule.lease_expires_at < _NOW,
)
_DUE = or_(TenantSchedule.next_sync_at.is_(None), TenantSchedule.next_sync_at <= _NOW)
_OURS = _lease_update(TenantSchedule.lease_owner == bindparam("owner"))
_TAKE_FREE = _lease_update(_FREE)
_TAKE_FREE_DUE = _lease_update(_FREE, _DUE)


def _take(db: Connection, statement: Update, **values: object) -> bool:
    return db.execute(statement, values).rowcount == 1


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
        if _take(db, _OURS, pk=tenant_pk, owner=owner, expires=expires):
            held = Claim(tenant_pk, owner, resumed=True)
        else:
            free = _TAKE_FREE_DUE if due_only else _TAKE_FREE
            if not _take(db, free, pk=tenant_pk, owner=owner, expires=expires, now=now):
                return None
            held = Claim(tenant_pk, owner, resumed=False)
        if abandon_dead:
            _abandon(db, held, ttl, now)
    return held


def renew(engine: Engine, tenant_pk: int, owner: str, ttl: timedelta = DEFAULT_LEASE_TTL) -> bool:
    """Push the lease's expiry out; False when it is no longer ours (expired and taken over)."""
    with write_transaction(engine) as db:
        return _take(db, _OURS, pk=tenant_pk, owner=owner, expires=utcnow() + ttl)


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


_ABANDON_VALUES = {
    "status": SyncStatus.FAILED,
    "finished_at": bindparam("now", type_=SyncRun.finished_at.type),
    "error_kind": "abandoned",
    "error_message": "the worker holding this tenant stopped without finishing",
}
_RUNNING = (SyncRun.tenant_id == bindparam("pk"), SyncRun.status == SyncStatus.RUNNING)
_ABANDON_RESUMED = update(SyncRun).where(*_RUNNING).values(_ABANDON_VALUES)
_ABANDON_STALE = (
    update(SyncRun)
    .where(
        *_RUNNING,
        or_(
            SyncRun.heartbeat_at.is_(None),
            SyncRun.heartbeat_at < bindparam("stale", type_=SyncRun.heartbeat_at.type),
        ),
    )
    .values(_ABANDON_VALUES)
)


def _abandon(db: Connection, held: Claim, ttl: timedelta, now: datetime) -> int:
    if held.resumed:
        return db.execute(_ABANDON_RESUMED, {"pk": held.tenant_pk, "now": now}).rowcount
    values = {"pk": held.tenant_pk, "now": now, "stale": now - ttl}
    return db.execute(_ABANDON_STALE, values).rowcount
