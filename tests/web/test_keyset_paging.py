"""Keyset pages of users and holders: every row once, in order, across ties, budgets and syncs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, update

from database_fixtures import add_tenant
from licensewatch.intelligence.read_models.holders_store import publish_holders
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Group, Sku, SyncRun, SyncStatus, Tenant, User, UserLicense
from licensewatch.storage.models.base import utcnow
from licensewatch.web.queries import holders as holders_module
from licensewatch.web.queries import walk
from licensewatch.web.queries.common import Page, tenant_refs
from licensewatch.web.queries.holders import holders
from licensewatch.web.queries.keyset import BadCursor
from licensewatch.web.queries.user_list import UserFilter, search_users

SKU = "11111111-0000-4000-8000-000000000001"
GROUP = "22222222-0000-4000-8000-000000000001"
USERS = 120


def _uid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _upn(n: int) -> str | None:
    if n % 40 == 7:
        return None  # no UPN: listed first, by id
    if n % 10 == 3:
        return "shared@contoso.example"  # ties on the sort key, broken by id
    return f"user{(n * 37) % USERS:04d}@contoso.example"


def _holdings(n: int) -> list[str | None]:
    """How user n holds the product: through the group, directly (None), both, or not."""
    found: list[str | None] = []
    if n % 3:  # two of three hold it
        found.append(GROUP if n % 2 else None)
    if n % 5 == 1 and None not in found:  # some directly as well
        found.append(None)
    return found


def _dataset(engine: Engine, tenant: int, users: range, *, enabled: Callable[[int], bool]) -> int:
    with session_scope(engine) as session:
        run = SyncRun(tenant_id=tenant, status=SyncStatus.COMPLETED, started_at=utcnow())
        session.add(run)
        session.flush()
        dataset = run.id
    with engine.begin() as db:
        db.execute(
            insert(User),
            [{"dataset_id": dataset, "id": _uid(n), "tenant_id": tenant, "user_principal_name":
              _upn(n), "display_name": f"Person {n}", "account_enabled": enabled(n)}
             for n in users],
        )  # fmt: skip
        licences = [
            {"dataset_id": dataset, "user_id": _uid(n), "sku_id": SKU, "state": "Active",
             "assigned_by_group": group}
            for n in users
            for group in _holdings(n)
        ]  # fmt: skip
        db.execute(insert(UserLicense), licences)
        db.execute(update(Tenant).where(Tenant.id == tenant).values(dataset_id=dataset))
    return dataset


def _seed(engine: Engine, name: str = "contoso") -> int:
    tenant = add_tenant(engine, name)
    with engine.begin() as db:
        # The aggregates a sync stores (about right): they pick how holders are read.
        db.execute(
            insert(Sku).values(tenant_id=tenant, sku_id=SKU, sku_part_number="SPE_E3",
                               direct_assigned=USERS // 2, group_assigned=USERS // 3)
        )  # fmt: skip
        db.execute(insert(Group).values(tenant_id=tenant, id=GROUP, display_name="Staff"))
    _dataset(engine, tenant, range(USERS), enabled=lambda n: n % 4 != 0)
    return tenant


def _all_pages(read: Callable[[str], Page[Any]], key: Callable[[Any], Any]) -> list[Any]:
    seen: list[Any] = []
    cursor = ""
    for _ in range(1000):
        page = read(cursor)
        seen += [key(item) for item in page.items]
        if not page.has_more:
            assert page.next_cursor is None
            return seen
        assert page.next_cursor
        cursor = page.next_cursor
    raise AssertionError("the pages never ended")


def _users(engine: Engine, filters: UserFilter, limit: int, cursor: str) -> Page[Any]:
    with session_scope(engine, write=False) as session:
        return search_users(session, tenant_refs(session), filters, limit=limit, cursor=cursor)


@pytest.mark.parametrize("limit", [1, 3, 7, 50])
def test_cursor_pages_hold_every_user_once_in_order(engine: Engine, limit: int) -> None:
    _seed(engine)
    everything = _users(engine, UserFilter(), 500, "")
    assert not everything.has_more
    assert len(everything.items) == USERS
    ids = [u.id for u in everything.items]
    paged = _all_pages(lambda c: _users(engine, UserFilter(), limit, c), lambda u: u.id)
    assert paged == ids
    # Users without a UPN first; the rest by UPN, equal UPNs by id.
    keys = [(u.user_principal_name is not None, u.user_principal_name or "", u.id)
            for u in everything.items]  # fmt: skip
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)
    ties = [u.id for u in everything.items if u.user_principal_name == "shared@contoso.example"]
    assert ties == sorted(ties)
    assert len(ties) == USERS // 10


def test_a_filter_few_match_stops_at_its_budget_and_says_where(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(engine)
    monkeypatch.setattr(walk, "BUDGET", 10)  # ten users read per page at most
    filters = UserFilter(state="disabled")
    expected = [_uid(n) for n in range(USERS) if n % 4 == 0]
    paged = _all_pages(lambda c: _users(engine, filters, 5, c), lambda u: u.id)
    assert sorted(paged) == sorted(expected)
    assert len(paged) == len(set(paged))
    first = _users(engine, filters, 50, "")
    assert first.has_more
    assert len(first.items) < 50  # stopped early, with a cursor to go on


def test_search_pages_across_both_runs(engine: Engine) -> None:
    _seed(engine)
    # "person 1" starts display names only: every match is in the name-only run.
    term = UserFilter(search="person 1")
    everything = [u.id for u in _users(engine, term, 500, "").items]
    assert len(everything) == len({n for n in range(USERS) if str(n).startswith("1")})
    assert _all_pages(lambda c: _users(engine, term, 4, c), lambda u: u.id) == everything


def test_pages_go_on_into_the_next_tenant(engine: Engine) -> None:
    _seed(engine, "alpha")
    _seed(engine, "beta")
    paged = _all_pages(lambda c: _users(engine, UserFilter(), 17, c), lambda u: (u.tenant, u.id))
    assert len(paged) == 2 * USERS == len(set(paged))
    assert [t for t, _ in paged] == ["alpha"] * USERS + ["beta"] * USERS


def _holders(engine: Engine, limit: int, cursor: str, search: str = "") -> Page[Any]:
    with session_scope(engine, write=False) as session:
        ref = tenant_refs(session)[0]
        return holders(session, ref, SKU, search=search, limit=limit, cursor=cursor)


@pytest.mark.parametrize(
    "read", ["few", "walk", "stored"], ids=["from the product index", "walking users", "stored"]
)
@pytest.mark.parametrize("limit", [1, 2, 9])
def test_holder_pages_split_a_users_assignments_without_loss(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, read: str, limit: int
) -> None:
    tenant = _seed(engine)
    monkeypatch.setattr(holders_module, "FEW", USERS if read == "few" else 0)
    if read == "stored":  # as a publish stores them: the pages read product_holders
        with engine.begin() as connection:
            publish_holders(connection, tenant)
    everything = _holders(engine, 500, "")
    rows = [(h.user_id, h.group_id) for h in everything.items]
    assert len(rows) == len(set(rows)) == sum(len(_holdings(n)) for n in range(USERS))
    paged = _all_pages(lambda c: _holders(engine, limit, c), lambda h: (h.user_id, h.group_id))
    assert paged == rows
    searched = _all_pages(lambda c: _holders(engine, limit, c, "user00"), lambda h: h.user_id)
    assert searched
    assert all((_upn(int(uid[-12:])) or "").startswith("user00") for uid in searched)


def test_pages_stay_whole_when_a_delta_sync_changes_rows_between_reads(engine: Engine) -> None:
    tenant = _seed(engine)
    first = _users(engine, UserFilter(), 30, "")
    shown = [u.id for u in first.items]
    with session_scope(engine, write=False) as session:
        dataset = tenant_refs(session)[0].dataset_id
    # A delta sync in place: users deleted (one shown, one not yet), one renamed to the front,
    # one new, and every remaining user's row rewritten (delete + insert, as delta does).
    gone = {shown[-1], [u.id for u in _users(engine, UserFilter(), 500, "").items][80]}
    renamed = [u.id for u in _users(engine, UserFilter(), 500, "").items][100]
    with engine.begin() as db:
        db.execute(delete(User).where(User.dataset_id == dataset, User.id.in_(gone)))
        db.execute(
            update(User)
            .where(User.dataset_id == dataset, User.id == renamed)
            .values(user_principal_name="aaa-renamed@contoso.example")
        )
        db.execute(
            insert(User).values(dataset_id=dataset, id=_uid(999), tenant_id=tenant,
                                user_principal_name="zzz-new@contoso.example")
        )  # fmt: skip
    rest = _all_pages(
        lambda c: _users(engine, UserFilter(), 30, c or str(first.next_cursor)), lambda u: u.id
    )
    seen = shown + rest
    assert len(seen) == len(set(seen)), "a user came twice"
    now = {u.id for u in _users(engine, UserFilter(), 500, "").items}
    unchanged = now - {renamed, _uid(999)}
    assert unchanged <= set(seen), "a user that did not change was skipped"
    assert _uid(999) in rest  # new, after the cursor: shown
    # After a full sync the tenant reads a new dataset: the cursor goes on by key there.
    _dataset(engine, tenant, range(USERS), enabled=lambda n: True)
    again = _all_pages(
        lambda c: _users(engine, UserFilter(), 30, c or str(first.next_cursor)), lambda u: u.id
    )
    assert set(shown) | set(again) == {_uid(n) for n in range(USERS)}
    assert not set(shown) & set(again)


@pytest.mark.parametrize("cursor", ["not-a-cursor", "W10", "WyJob2xkZXJzIiwxLCJhIiwiYiIsIiJd"])
def test_a_cursor_from_elsewhere_is_refused(engine: Engine, cursor: str) -> None:
    _seed(engine)
    with pytest.raises(BadCursor):
        _users(engine, UserFilter(), 10, cursor)
