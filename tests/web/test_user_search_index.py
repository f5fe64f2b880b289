"""User search: case-insensitive prefixes of UPN or display name, answered from an index."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import ClauseElement, ColumnElement, Engine, select, text, update
from sqlalchemy.orm import Session

from database_fixtures import add_tenant
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import SyncRun, SyncStatus, Tenant, User, UserLicense
from licensewatch.storage.models.base import utcnow
from licensewatch.web.queries.common import tenant_refs
from licensewatch.web.queries.search import NAME_KEY, UPN_KEY, fold, starts_with
from licensewatch.web.queries.user_list import (
    UserFilter,
    search_users,
    user_conditions,
    user_runs,
)

PEOPLE = [
    ("anna.berg@contoso.example", "Anna Berg"),
    ("Annabel.Lee@contoso.example", "Annabel Lee"),
    ("jdoe@contoso.example", "ANNA Doe"),
    ("hannah.smith@contoso.example", "Hannah Smith"),
    ("max_power@contoso.example", "Max Power"),
    ("maxXpower@contoso.example", "Max X"),
    ("100%real@contoso.example", "Percent"),
    ("émile.zola@contoso.example", "Émile Zola"),
]
FILLER = 300  # enough rows that a planner prefers an index to a scan


def _seed(engine: Engine) -> None:
    tenant_pk = add_tenant(engine, "contoso")
    with session_scope(engine) as session:
        run = SyncRun(tenant_id=tenant_pk, status=SyncStatus.COMPLETED, started_at=utcnow())
        session.add(run)
        session.flush()
        rows = PEOPLE + [(f"filler{i:04d}@contoso.example", f"Filler {i}") for i in range(FILLER)]
        for index, (upn, name) in enumerate(rows):
            session.add(
                User(dataset_id=run.id, id=f"00000000-0000-0000-0000-{index:012d}",
                     tenant_id=tenant_pk, user_principal_name=upn, display_name=name)
            )  # fmt: skip
        session.flush()
        session.execute(update(Tenant).where(Tenant.id == tenant_pk).values(dataset_id=run.id))


def _found(engine: Engine, term: str) -> list[str]:
    """The matching UPNs, sorted here (the page's order follows the database's collation)."""
    with session_scope(engine, write=False) as session:
        page = search_users(session, tenant_refs(session), UserFilter(search=term), limit=500)
        return sorted(u.user_principal_name or "" for u in page.items)


def _listed(engine: Engine) -> list[str]:
    with session_scope(engine, write=False) as session:
        page = search_users(session, tenant_refs(session), UserFilter(), limit=500)
        return [u.user_principal_name or "" for u in page.items]


def test_search_matches_prefixes_in_any_case(engine: Engine) -> None:
    _seed(engine)
    assert _found(engine, "anna") == sorted(
        ["anna.berg@contoso.example", "Annabel.Lee@contoso.example", "jdoe@contoso.example"]
    )
    assert _found(engine, "  ANNAB ") == ["Annabel.Lee@contoso.example"]
    assert _found(engine, "hannah") == ["hannah.smith@contoso.example"]
    assert _found(engine, "jdo") == ["jdoe@contoso.example"]
    # A prefix, not a substring: "nna" starts no name.
    assert _found(engine, "nna") == []
    assert _found(engine, "émile") == ["émile.zola@contoso.example"]


def test_like_wildcards_in_the_term_are_literal(engine: Engine) -> None:
    _seed(engine)
    assert _found(engine, "max_") == ["max_power@contoso.example"]
    assert _found(engine, "100%") == ["100%real@contoso.example"]
    assert _found(engine, "%") == []


def _page(engine: Engine, term: str, limit: int, offset: int) -> tuple[list[str], bool]:
    with session_scope(engine, write=False) as session:
        refs = tenant_refs(session)
        page = search_users(session, refs, UserFilter(search=term), limit=limit, offset=offset)
        return [u.user_principal_name or "" for u in page.items], page.has_more


def test_upn_matches_come_first_then_name_only_matches(engine: Engine) -> None:
    _seed(engine)
    everything = [
        "anna.berg@contoso.example",
        "Annabel.Lee@contoso.example",
        "jdoe@contoso.example",
    ]
    assert _page(engine, "anna", 10, 0) == (everything, False)
    # Pages cut anywhere across the two runs: nothing lost, nothing repeated.
    for size in (1, 2):
        seen: list[str] = []
        offset, more = 0, True
        while more:
            names, more = _page(engine, "anna", size, offset)
            seen += names
            offset += size
        assert seen == everything, size
    assert _page(engine, "anna", 2, 1) == (everything[1:], False)
    assert _page(engine, "anna", 2, 5) == ([], False)


def test_search_pages_in_upn_order(engine: Engine) -> None:
    _seed(engine)
    first, more_after_first = _page(engine, "filler", 100, 0)
    second, more_after_second = _page(engine, "filler", 100, 100)
    assert more_after_first
    assert more_after_second
    assert first + second == [f"filler{i:04d}@contoso.example" for i in range(200)]


def test_search_combines_with_the_other_filters(engine: Engine) -> None:
    _seed(engine)
    with session_scope(engine) as session:
        session.execute(
            update(User)
            .where(User.user_principal_name == "jdoe@contoso.example")
            .values(account_enabled=False)
        )
    with session_scope(engine, write=False) as session:
        refs = tenant_refs(session)
        page = search_users(session, refs, UserFilter(search="anna", state="disabled"))
    assert [u.user_principal_name for u in page.items] == ["jdoe@contoso.example"]


def _plan(session: Session, key: ColumnElement[Any], *, search: bool = True) -> str:
    """The plan of one run of `search_rows`: the users whose `key` starts with "anna" (or, not
    `search`, the users list's run of every user with a UPN)."""
    within = (
        starts_with(key, fold(session, "anna")) if search else User.user_principal_name.is_not(None)
    )
    statement = (
        select(User.id, User.user_principal_name)
        .where(User.dataset_id == 1, within)
        .order_by(key, User.id)
        .limit(51)
    )
    return _explain(session, statement)


def _explain(session: Session, statement: ClauseElement) -> str:
    """The plan of a statement: SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN (no scans)."""
    dialect = session.get_bind().dialect
    if dialect.name == "sqlite":
        compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        rows = session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        return "\n".join(str(row[-1]) for row in rows)
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    connection = session.connection()
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).all()
    return "\n".join(str(row[0]) for row in rows)


def test_search_reads_the_lower_name_indexes(engine: Engine) -> None:
    _seed(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE users")  # the planner sees a table worth indexing
    with session_scope(engine, write=False) as session:
        by_upn, by_name = _plan(session, UPN_KEY), _plan(session, NAME_KEY)
    assert "ix_users_search_upn" in by_upn, by_upn
    assert "ix_users_search_name" in by_name, by_name


def test_the_users_list_walks_the_same_upn_index(engine: Engine) -> None:
    """One UPN index serves the list and the search (migration 0016 dropped the raw one)."""
    _seed(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE users")
    with session_scope(engine, write=False) as session:
        listed = _plan(session, UPN_KEY, search=False)
        assert [run.key for run in user_runs(session, "")][1] is UPN_KEY
    assert "ix_users_search_upn" in listed, listed
    if engine.dialect.name == "sqlite":  # PostgreSQL's order follows its collation
        page = _listed(engine)
        assert page == sorted(page, key=str.lower)


def test_page_one_seeks_the_users_without_a_upn(engine: Engine) -> None:
    """The list's first run (users without a UPN, by id) reads a partial index of only them
    (migration 0017), not every user of the dataset by primary key."""
    _seed(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE users")
    with session_scope(engine, write=False) as session:
        first = user_runs(session, "")[0]
        statement = (
            select(User.id, User.user_principal_name)
            .where(User.dataset_id == 1, *first.within)
            .order_by(first.key, User.id)
            .limit(51)
        )
        plan = _explain(session, statement)
    assert "ix_users_without_upn" in plan, plan


def test_the_licensed_filter_probes_an_index(engine: Engine) -> None:
    """ "Holds an assigned licence" is one index probe per user; on SQLite from the index alone."""
    _seed(engine)
    with session_scope(engine) as session:
        session.add(
            UserLicense(dataset_id=1, user_id="00000000-0000-0000-0000-000000000000",
                        sku_id="00000000-0000-0000-0000-0000000000aa", state="Active")
        )  # fmt: skip
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE user_licenses")
    with session_scope(engine, write=False) as session:
        (unlicensed,) = user_conditions(UserFilter(licensed="no"))
        plan = _explain(session, select(User.id).where(User.dataset_id == 1, unlicensed))
    assert "ix_user_licenses_user_state" in plan, plan
    if engine.dialect.name == "sqlite":
        assert "COVERING INDEX ix_user_licenses_user_state" in plan, plan


@pytest.mark.parametrize("term", ["a\U0010ffff", "a\ud7ff"])
def test_terms_at_the_end_of_unicode_still_work(engine: Engine, term: str) -> None:
    _seed(engine)
    assert _found(engine, term) == []
