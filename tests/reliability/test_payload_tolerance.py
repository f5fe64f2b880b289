"""Odd Graph payloads (unknown, missing, null, wrong-typed fields) and paging loops never crash."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from licensewatch.graph.errors import GraphProtocolError
from licensewatch.graph.paging import NextLinkGuard, Page, page_from_body
from licensewatch.storage.database import make_engine, write_transaction
from licensewatch.storage.writers import write_user_licenses, write_users
from licensewatch.sync import collectors

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=300),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
USER_KEYS = (
    "id", "userPrincipalName", "displayName", "mail", "accountEnabled", "userType", "department",
    "jobTitle", "companyName", "country", "usageLocation", "createdDateTime", "employeeId",
    "onPremisesSyncEnabled", "signInActivity", "assignedLicenses", "licenseAssignmentStates",
    "someFieldGraphAddsNextYear", "@odata.type",
)  # fmt: skip
SKU_KEYS = ("skuId", "skuPartNumber", "prepaidUnits", "consumedUnits", "servicePlans", "appliesTo")
good_id = st.uuids().map(str)
users = st.fixed_dictionaries(
    {"id": st.one_of(good_id, json_values)},
    optional={key: json_values for key in USER_KEYS[1:]},
)
collections = st.dictionaries(st.sampled_from((*SKU_KEYS, "id", "status", "nope")), json_values)


@given(st.lists(users, max_size=8))
@settings(max_examples=60, deadline=None)
def test_user_rows_tolerate_any_field_values(items: list[dict[str, Any]]) -> None:
    for item in items:
        uid = collectors.user_id(item)
        if uid is None:
            continue  # nothing to key it on: the sync skips it
        row = collectors.user_row(1, 1, item)
        assert row[0] == 1
        assert row[1] == uid
        for licence in collectors.license_rows(1, item):
            assert licence[0] == 1


@given(st.lists(collections, max_size=5), json_values)
@settings(max_examples=60, deadline=None)
def test_inventory_rows_tolerate_any_field_values(items: list[Any], organization: Any) -> None:
    collectors.sku_rows(1, items)
    collectors.subscription_rows(1, items)
    collectors.group_rows(1, items)
    collectors.organization(organization)
    collectors.organization({"value": items})


@given(st.lists(users, min_size=1, max_size=10))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_odd_users_are_stored(items: list[dict[str, Any]]) -> None:
    """Whatever survives parsing also fits the database (lengths, types, NOT NULL)."""
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'odd.db'}")
        try:
            from database_fixtures import add_tenant
            from licensewatch.storage.models import SyncRun

            tenant = add_tenant(engine)
            with write_transaction(engine) as db:
                values = dict.fromkeys(("users_read", "pages_read", "requests", "retries"), 0)
                statement = insert(SyncRun).values(
                    tenant_id=tenant, kind="full", status="RUNNING", throttled=0, **values
                )
                run = db.execute(statement.returning(SyncRun.id)).scalar_one()
                seen: set[str] = set()
                rows, licences = [], []
                for item in items:
                    uid = collectors.user_id(item)
                    if uid is None or uid in seen:
                        continue
                    seen.add(uid)
                    rows.append(collectors.user_row(run, tenant, item))
                    licences.extend(collectors.license_rows(run, item))
                write_users(db, rows)
                write_user_licenses(db, licences)
        finally:
            engine.dispose()


BASE = "https://graph.microsoft.com/v1.0"
links = st.one_of(
    st.none(),
    st.integers(0, 6).map(lambda n: f"{BASE}/users?$skiptoken={n}"),
    st.sampled_from(
        ["https://evil.example/v1.0/users?$skiptoken=1", "http://graph.microsoft.com/x"]
    ),
)


@given(st.lists(links, min_size=1, max_size=12))
@settings(max_examples=300, deadline=None)
def test_next_link_guard_never_loops_or_leaves_graph(sequence: list[str | None]) -> None:
    """Following a server's nextLinks ends: each link at most once, never another origin."""
    guard = NextLinkGuard(BASE)
    guard.remember(f"{BASE}/users")
    followed: list[str] = []
    for number, link in enumerate(sequence, start=1):
        page = Page([], link, None, None, number, "req")
        try:
            nxt = guard.check(page, f"{BASE}/users")
        except GraphProtocolError:
            assert link is not None
            assert link in followed or not link.startswith(BASE + "/")
            return
        if nxt is None:
            assert link is None
            return
        assert nxt.startswith(BASE + "/")
        assert nxt not in followed
        followed.append(nxt)
    assert len(followed) == len(set(followed)) <= 7


@given(json_values)
@settings(max_examples=200, deadline=None)
def test_any_page_body_is_a_page_or_a_protocol_error(body: Any) -> None:
    try:
        page = page_from_body(body, number=1, request_id="r", url=f"{BASE}/users")
    except GraphProtocolError:
        return
    assert isinstance(page.items, list)


@pytest.mark.parametrize(
    "body",
    [{"value": None}, {"value": {}}, {"value": [], "@odata.nextLink": 5}, [], "text", None],
)
def test_malformed_pages_are_protocol_errors(body: Any) -> None:
    with pytest.raises(GraphProtocolError):
        page_from_body(body, number=1, request_id="r", url=f"{BASE}/users")
