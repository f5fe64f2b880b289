"""Bulk writers store exactly what they are given, on SQLite (executemany) and PostgreSQL (COPY)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from database_fixtures import add_tenant
from licensewatch.storage.database import session_scope, write_transaction
from licensewatch.storage.models import SyncRun, User, UserLicense
from licensewatch.storage.writers import (
    USER_COLUMNS,
    USER_LICENSE_COLUMNS,
    _sorted,
    delete_datasets,
    write_user_licenses,
    write_users,
)


def _run(engine: Engine, tenant_id: int) -> int:
    with session_scope(engine) as session:
        run = SyncRun(tenant_id=tenant_id)
        session.add(run)
        session.flush()
        return run.id


def _user(dataset: int, tenant: int, n: int, when: datetime | None) -> tuple[Any, ...]:
    values: dict[str, Any] = dict.fromkeys(USER_COLUMNS)
    values.update(
        dataset_id=dataset,
        id=f"00000000-0000-0000-0000-{n:012d}",
        tenant_id=tenant,
        user_principal_name=f"ünïcode.{n}@contoso.example",
        display_name='O\'Brien, "Tab"\tand\\backslash\nnewline' if n % 2 else None,
        account_enabled=bool(n % 3),
        created_at=when,
        last_sign_in_at=when + timedelta(microseconds=n) if when else None,
    )
    return tuple(values[name] for name in USER_COLUMNS)


def test_users_and_licences_round_trip(engine: Engine) -> None:
    tenant = add_tenant(engine)
    dataset = _run(engine, tenant)
    when = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC)
    users = [_user(dataset, tenant, n, when if n % 4 else None) for n in range(500)]
    licences = [
        (dataset, users[n][1], "sku-a", None if n % 2 else "group-1", "Active", None, "")
        for n in range(500)
    ] + [(dataset, users[0][1], "sku-b", None, "Error", "CountViolation", "p1,p2")]
    with write_transaction(engine) as connection:
        assert write_users(connection, users) == 500
        assert write_user_licenses(connection, licences) == 501
    with session_scope(engine, write=False) as session:
        stored = session.scalars(select(User).order_by(User.id)).all()
        got = [tuple(getattr(user, name) for name in USER_COLUMNS) for user in stored]
        assert got == sorted(users, key=lambda row: row[1])
        rows = session.scalars(select(UserLicense)).all()
        got_licences = {tuple(getattr(row, name) for name in USER_LICENSE_COLUMNS) for row in rows}
        assert got_licences == set(licences)


def test_rollback_discards_a_bulk_write(engine: Engine) -> None:
    tenant = add_tenant(engine)
    dataset = _run(engine, tenant)
    try:
        with write_transaction(engine) as connection:
            write_users(connection, [_user(dataset, tenant, 1, None)])
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with session_scope(engine, write=False) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_delete_datasets_removes_only_those_rows(engine: Engine) -> None:
    tenant = add_tenant(engine)
    old, new = _run(engine, tenant), _run(engine, tenant)
    with write_transaction(engine) as connection:
        write_users(connection, [_user(old, tenant, n, None) for n in range(3)])
        write_users(connection, [_user(new, tenant, n, None) for n in range(2)])
        write_user_licenses(connection, [(old, "u", "s", None, "Active", None, None)])
    with write_transaction(engine) as connection:
        assert delete_datasets(connection, [old]) == 3
        assert delete_datasets(connection, []) == 0
    with session_scope(engine, write=False) as session:
        assert session.scalars(select(User.dataset_id).distinct()).all() == [new]
        assert session.scalar(select(func.count()).select_from(UserLicense)) == 0


def test_a_batch_is_sorted_by_its_key_a_missing_key_first_ties_in_order() -> None:
    """The C key sorts text keys; a None among them falls back to reading it as "" (stable)."""
    text = [("b", 1), ("a", 2), ("b", 3), ("", 4)]
    assert _sorted(text, 0) == [("", 4), ("a", 2), ("b", 1), ("b", 3)]
    mixed = [("b", 1), (None, 2), ("a", 3), ("", 4), (None, 5)]
    assert _sorted(iter(mixed), 0) == [(None, 2), ("", 4), (None, 5), ("a", 3), ("b", 1)]
