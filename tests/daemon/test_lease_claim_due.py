"""A claim that checks "still due" and abandons dead runs in its own transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, insert, select, update

from database_fixtures import add_tenant
from licensewatch.storage.database import read_transaction, write_transaction
from licensewatch.storage.models import SyncRun, SyncStatus, TenantSchedule, utcnow
from licensewatch.sync import leases


def _synced_just_now(engine: Engine, name: str = "contoso") -> int:
    pk = add_tenant(engine, name)
    leases.ensure_schedules(engine)
    with write_transaction(engine) as db:
        db.execute(
            update(TenantSchedule)
            .where(TenantSchedule.tenant_id == pk)
            .values(next_sync_at=utcnow() + timedelta(hours=1))
        )
    return pk


def _owner(engine: Engine, pk: int) -> str | None:
    with read_transaction(engine) as db:
        return db.scalar(select(TenantSchedule.lease_owner).where(TenantSchedule.tenant_id == pk))


def test_due_only_claims_skip_a_tenant_synced_meanwhile(engine: Engine) -> None:
    pk = _synced_just_now(engine)
    assert leases.claim(engine, pk, "a", due_only=True) is None
    assert _owner(engine, pk) is None  # nothing taken, nothing to release
    forced = leases.claim(engine, pk, "a")  # `force` (tenant sync now) ignores the schedule
    assert forced is not None
    assert not forced.resumed
    resumed = leases.claim(engine, pk, "a", due_only=True)  # a retried job keeps its tenant
    assert resumed is not None
    assert resumed.resumed
    assert leases.release(engine, pk, "a")


def test_due_never_synced_tenant_is_claimed_with_dead_runs_abandoned(engine: Engine) -> None:
    pk = add_tenant(engine)
    leases.ensure_schedules(engine)
    old = utcnow() - timedelta(hours=1)
    with write_transaction(engine) as db:
        db.execute(
            insert(SyncRun).values(
                tenant_id=pk, status=SyncStatus.RUNNING, started_at=old, heartbeat_at=old
            )
        )
    held = leases.claim(engine, pk, "a", due_only=True, abandon_dead=True)
    assert held is not None
    assert _owner(engine, pk) == "a"
    with read_transaction(engine) as db:
        run = db.execute(select(SyncRun.status, SyncRun.error_kind)).one()
    assert (run.status, run.error_kind) == (SyncStatus.FAILED, "abandoned")
