"""The quick reads' plain SQL reads values as the models' types do, on sqlite3 and SQLAlchemy."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from database_fixtures import add_tenant
from licensewatch.intelligence.names import product_names
from licensewatch.observability.fleet import tenant_status
from licensewatch.services.tenant_list import list_tenants
from licensewatch.services.tenant_lookup import known_tenant_name
from licensewatch.storage import kinds
from licensewatch.storage.balance_reads import balance_rows
from licensewatch.storage.database import make_engine, read_transaction, session_scope
from licensewatch.storage.migrate import upgrade
from licensewatch.storage.models import Credential, SyncRun, Tenant, TenantSchedule
from licensewatch.storage.plain_sql import Bind
from licensewatch.storage.sqlite_reader import open_snapshot, sqlite_file
from web_seed import seed_inventory

NOW = datetime(2026, 12, 3, 12, 0, 30, 654321, tzinfo=UTC)
SYNCED = datetime(2026, 12, 1, 8, 15, 0, 0, tzinfo=UTC)  # whole seconds: no fraction stored
NOT_AFTER = datetime(2027, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)


def _seed(engine: Engine) -> None:
    """Two tenants with inventory; one with a certificate, writes on, a lease and a failed run."""
    for name in ("fabrikam", "contoso"):
        add_tenant(engine, name)
        seed_inventory(engine, name, users=12)
    with session_scope(engine) as session:
        tenant = session.query(Tenant).filter(Tenant.name == "contoso").one()
        session.execute(
            update(Tenant)
            .where(Tenant.id == tenant.id)
            .values(last_full_sync_at=SYNCED, delta_link_at=NOW, allow_writes=True)
        )
        session.add(
            Credential(tenant_id=tenant.id, kind=kinds.CredentialKind.CERTIFICATE,
                       ciphertext=b"-", thumbprint="AB12", certificate_not_after=NOT_AFTER)
        )  # fmt: skip
        session.add(
            TenantSchedule(tenant_id=tenant.id, next_sync_at=NOW + timedelta(minutes=5),
                           consecutive_failures=2, last_success_at=SYNCED, lease_owner="w1",
                           lease_expires_at=NOT_AFTER)
        )  # fmt: skip
        session.add(
            SyncRun(tenant_id=tenant.id, status=kinds.SyncStatus.FAILED, finished_at=NOW,
                    error_kind="throttled", error_message="429")
        )  # fmt: skip


READS: dict[str, Callable[[Bind], Any]] = {
    "balance": lambda bind: balance_rows(bind, now=NOW),
    "balance of one": lambda bind: balance_rows(bind, "contoso", now=NOW),
    "status": lambda bind: tenant_status(bind, NOW),
    "tenant list": list_tenants,
    "names": product_names,
    "lookup": lambda bind: known_tenant_name(bind, " contoso "),
}


def _check_values(read: dict[str, Any]) -> None:
    """The values the seed wrote, read back aware in UTC, to the microsecond; flags as bools."""
    contoso = read["tenant list"][0]
    assert [view.name for view in read["tenant list"]] == ["contoso", "fabrikam"]
    assert contoso.last_full_sync_at == SYNCED
    assert contoso.last_full_sync_at.tzinfo is UTC
    assert contoso.created_at.tzinfo is UTC
    assert contoso.allow_writes is True
    assert contoso.four_eyes is False
    assert contoso.credential.certificate_not_after == NOT_AFTER
    status = read["status"][0]
    assert (status.last_success_at, status.last_error_at) == (SYNCED, NOW)
    assert (status.lease_expires_at, status.delta_age_seconds) == (NOT_AFTER, 0.0)
    assert status.last_error == "throttled: 429"
    assert status.users == 12
    dates = [(row.next_renewal, row.trial_ends) for row in read["balance"]]
    seen = [when for pair in dates for when in pair if when is not None]
    assert len(seen) >= 4, dates
    assert all(when.tzinfo is UTC for when in seen), dates
    assert read["balance of one"] == [row for row in read["balance"] if row.tenant == "contoso"]
    assert read["lookup"] == "contoso"


def test_enums_are_the_models_own() -> None:
    from licensewatch.storage.models import CredentialKind, SyncStatus

    assert SyncStatus is kinds.SyncStatus
    assert CredentialKind is kinds.CredentialKind


def test_reads_through_sqlalchemy_give_the_models_values(engine: Engine) -> None:
    _seed(engine)
    with read_transaction(engine) as connection:
        _check_values({name: read(connection) for name, read in READS.items()})


def test_sqlite3_reads_equal_sqlalchemy_reads(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    _seed(engine)
    snapshot = open_snapshot(sqlite_url, None)
    assert snapshot is not None
    with read_transaction(engine) as connection, closing(snapshot):
        through_sqlalchemy = {name: read(connection) for name, read in READS.items()}
        through_sqlite3 = {name: read(snapshot) for name, read in READS.items()}
    engine.dispose()
    assert through_sqlite3 == through_sqlalchemy
    _check_values(through_sqlite3)


def test_a_snapshot_only_of_a_current_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    assert open_snapshot(url, None) is None  # no file yet: make_engine creates and migrates it
    old = make_engine(url, upgrade=False)
    upgrade(old, "0001")
    old.dispose()
    assert open_snapshot(url, None) is None  # to migrate: make_engine does, as before
    make_engine(url).dispose()
    snapshot = open_snapshot(url, None)
    assert snapshot is not None
    with closing(snapshot), pytest.raises(sqlite3.OperationalError, match="readonly"):
        snapshot.execute("DELETE FROM tenants")
    for other in ("sqlite://", "sqlite:///:memory:", f"{url}?timeout=5", "postgresql://x/y"):
        assert sqlite_file(other) is None, other
    assert sqlite_file("sqlite:///relative.db") == Path("relative.db")
    assert sqlite_file(f"sqlite+pysqlite:///{tmp_path}/a.db") == tmp_path / "a.db"


def test_a_snapshot_secures_the_files_as_make_engine_does(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lw.db'}"
    make_engine(url).dispose()
    database = tmp_path / "lw.db"
    database.chmod(0o644)
    snapshot = open_snapshot(url, tmp_path)
    assert snapshot is not None
    snapshot.close()
    assert database.stat().st_mode & 0o777 == 0o600
