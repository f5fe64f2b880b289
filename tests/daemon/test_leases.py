"""Tenant leases on SQLite and PostgreSQL: one holder at a time, expiry, takeover, dead runs."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import Engine, insert, select

from database_fixtures import add_tenant
from licensewatch.storage.database import read_transaction, write_transaction
from licensewatch.storage.models import SyncRun, SyncStatus, TenantSchedule, utcnow
from licensewatch.sync import leases
from licensewatch.sync.scheduler import due_tenants


def _tenant(engine: Engine, name: str = "contoso") -> int:
    pk = add_tenant(engine, name)
    leases.ensure_schedules(engine)
    return pk


def test_one_holder_renew_release_and_resume(engine: Engine) -> None:
    pk = _tenant(engine)
    assert leases.ensure_schedules(engine) == 0  # idempotent
    first = leases.claim(engine, pk, "a")
    assert first is not None
    assert not first.resumed
    assert leases.claim(engine, pk, "b") is None
    assert leases.renew(engine, pk, "a")
    assert not leases.renew(engine, pk, "b")
    assert not leases.release(engine, pk, "b")
    again = leases.claim(engine, pk, "a")
    assert again is not None
    assert again.resumed
    assert leases.release(engine, pk, "a")
    taken = leases.claim(engine, pk, "b")
    assert taken is not None
    assert not taken.resumed
    assert leases.release_all(engine, "b") == 1


def test_expired_lease_is_taken_over(engine: Engine) -> None:
    pk = _tenant(engine)
    assert leases.claim(engine, pk, "dead", ttl=timedelta(seconds=-1)) is not None
    assert due_tenants(engine, limit=10) == [pk]  # an expired lease does not hide a due tenant
    assert leases.claim(engine, pk, "alive") is not None
    assert not leases.renew(engine, pk, "dead")
    assert due_tenants(engine, limit=10) == []


def test_racing_claims_have_one_winner(engine: Engine) -> None:
    pks = [_tenant(engine, f"t{i}") for i in range(3)]
    wins: list[tuple[int, str]] = []
    barrier = threading.Barrier(6)

    def contend(owner: str) -> None:
        barrier.wait()
        for pk in pks:
            if leases.claim(engine, pk, owner) is not None:
                wins.append((pk, owner))

    threads = [threading.Thread(target=contend, args=(f"o{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(pk for pk, _ in wins) == pks
    with read_transaction(engine) as db:
        owners = dict(
            db.execute(select(TenantSchedule.tenant_id, TenantSchedule.lease_owner)).all()
        )
    assert owners == dict(wins)


def test_dead_runs_are_abandoned_only_when_provably_dead(engine: Engine) -> None:
    pk = _tenant(engine)
    now = utcnow()
    with write_transaction(engine) as db:
        for heartbeat in (now - timedelta(hours=1), now):
            db.execute(
                insert(SyncRun).values(
                    tenant_id=pk, status=SyncStatus.RUNNING, started_at=heartbeat,
                    heartbeat_at=heartbeat,
                )
            )  # fmt: skip
    held = leases.claim(engine, pk, "a")
    assert held is not None
    assert leases.abandon_dead_runs(engine, held) == 1  # only the silent one
    resumed = leases.claim(engine, pk, "a")
    assert resumed is not None
    assert resumed.resumed
    assert leases.abandon_dead_runs(engine, resumed) == 1  # its own retried job: all of them
    with read_transaction(engine) as db:
        statuses = db.scalars(select(SyncRun.status)).all()
    assert statuses == [SyncStatus.FAILED, SyncStatus.FAILED]
