"""A `licensed=no` page of the users list reads a range of the stored unlicensed users, each
user then by its primary key, on both engines: no scan of the users, no sort (but of a window);
and its pages equal the walked pages when the read budget stops them mid-list."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, update

from database_fixtures import add_tenant
from licensewatch.intelligence.read_models.holders_store import publish_holders
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import SyncRun, SyncStatus, Tenant, User, UserLicense
from licensewatch.storage.models.base import utcnow
from licensewatch.web.queries import user_list
from licensewatch.web.queries import walk as walk_module
from licensewatch.web.queries.common import tenant_refs
from licensewatch.web.queries.user_list import UserFilter, search_users

SKU = "11111111-0000-4000-8000-000000000001"
USERS = 400


def _seed(engine: Engine) -> None:
    tenant = add_tenant(engine, "contoso")
    with session_scope(engine) as session:
        run = SyncRun(tenant_id=tenant, status=SyncStatus.COMPLETED, started_at=utcnow())
        session.add(run)
        session.flush()
        dataset = run.id
    with engine.begin() as db:
        db.execute(
            insert(User),
            [{"dataset_id": dataset, "id": f"00000000-0000-4000-8000-{n:012d}",
              "tenant_id": tenant, "account_enabled": n % 2 == 0,
              "user_principal_name": None if n < 5 else f"user{n:04d}@contoso.example"}
             for n in range(USERS)],
        )  # fmt: skip
        db.execute(
            insert(UserLicense),
            [{"dataset_id": dataset, "user_id": f"00000000-0000-4000-8000-{n:012d}",
              "sku_id": SKU, "state": "Active" if n % 3 else "Error"}
             for n in range(USERS) if n % 4]
        )  # fmt: skip
        db.execute(update(Tenant).where(Tenant.id == tenant).values(dataset_id=dataset))
    with engine.begin() as connection:
        publish_holders(connection, tenant)
        connection.exec_driver_sql("ANALYZE")


def _statements(engine: Engine, filters: UserFilter) -> list[tuple[str, Any]]:
    """The statements of a first and a next page that read the stored list."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "unlicensed_users" in statement and "product_holder_builds" not in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        cursor = ""
        for _ in range(2):
            with session_scope(engine, write=False) as session:
                page = search_users(session, tenant_refs(session), filters, limit=10, cursor=cursor)
            assert page.next_cursor
            cursor = page.next_cursor
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def _plan(engine: Engine, statement: str, parameters: Any) -> str:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(str(row[-1]) for row in rows)
        # A small table: a sort of its rows is cheaper. Whether an ordered index path exists is
        # what counts at 300k users: with the others off, PostgreSQL takes it if there is one.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            connection.exec_driver_sql(f"SET {setting} = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "\n".join(str(row[0]) for row in rows)


@pytest.mark.parametrize(
    "filters",
    [UserFilter(licensed="no"), UserFilter(licensed="no", state="enabled")],
    ids=["unlicensed", "unlicensed and enabled"],
)
def test_an_unlicensed_page_reads_a_range_of_the_stored_list(
    engine: Engine, filters: UserFilter
) -> None:
    _seed(engine)
    statements = _statements(engine, filters)
    assert statements, "the pages read the stored list"
    for statement, parameters in statements:
        plan = _plan(engine, statement, parameters)
        # A filtered page reads a window of the list (at most WINDOW entries) then sorts the
        # window's survivors, as the users walk does: bounded, whatever the tenant's size.
        sorts = "anon_1" in statement
        if engine.dialect.name == "sqlite":
            assert (
                "SEARCH unlicensed_users USING COVERING INDEX sqlite_autoindex_unlicensed_users_1"
                in plan
            ), plan
            assert sorts or "TEMP B-TREE" not in plan, plan  # the index gives the order
            assert "SCAN users" not in plan, plan
        else:
            assert "pk_unlicensed_users" in plan, plan
            assert sorts or "Sort" not in plan, plan
            assert "Seq Scan" not in plan, plan


def _all(engine: Engine, filters: UserFilter) -> tuple[list[str], int]:
    """Every user id the list shows for `filters`, 3 a page, and how many pages it took."""
    cursor, shown, pages = "", [], 0
    while True:
        with session_scope(engine, write=False) as session:
            page = search_users(session, tenant_refs(session), filters, limit=3, cursor=cursor)
        shown += [u.id for u in page.items]
        pages += 1
        if not page.has_more:
            return shown, pages
        assert page.next_cursor
        cursor = page.next_cursor


@pytest.mark.parametrize(
    "filters",
    [UserFilter(licensed="no"), UserFilter(licensed="no", state="enabled"),
     UserFilter(licensed="no", department="nobody")],
    ids=["unlicensed", "unlicensed and enabled", "no match"],
)  # fmt: skip
def test_stored_pages_equal_walked_pages_across_budget_stops(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, filters: UserFilter
) -> None:
    _seed(engine)
    # A small budget: pages stop inside a run and inside the stored list, and go on from there.
    monkeypatch.setattr(walk_module, "BUDGET", 16)
    monkeypatch.setattr(walk_module, "WINDOW", 8)
    stored, _ = _all(engine, filters)
    with monkeypatch.context() as patch:
        patch.setattr(user_list, "stored_datasets", lambda _session, _ids: set())
        walked, walked_pages = _all(engine, filters)
    assert stored == walked
    assert len(stored) == len(set(stored))
    if filters.department:
        assert not stored
        assert walked_pages > 1  # the walk stopped at its budget
