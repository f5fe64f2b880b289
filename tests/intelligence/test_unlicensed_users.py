"""The stored unlicensed users follow full and delta syncs: the users list's `licensed=no` pages
read from them equal the pages walked from the users and the directory's truth, after a delta
that licenses and unlicenses users, one that puts an assignment in Error, a failed delta, and a
publish that did not store them (the pages then walk the users); also with another filter.

Real syncs over TLS through the emulator (the read-model worlds of test_read_models_incremental).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from intelligence_world import held, users
from sqlalchemy import Connection, Engine, select
from test_read_models_incremental import World, _mutate, _prepared

from emulator_fixtures import EmulatorFactory
from licensewatch.domain.changed_users import ChangedUsers
from licensewatch.emulator import mutations
from licensewatch.emulator.state import LicenseAssignment
from licensewatch.emulator.state import Tenant as EmulatedTenant
from licensewatch.intelligence.costs import ASSIGNED_STATES
from licensewatch.intelligence.read_models.build import publish_read_models
from licensewatch.intelligence.read_models.holders_store import publish_holders
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import SyncRun
from licensewatch.storage.models.holders import UnlicensedUser
from licensewatch.sync import changes
from licensewatch.web.queries import user_list
from licensewatch.web.queries.common import tenant_refs
from licensewatch.web.queries.stored import stored_datasets
from licensewatch.web.queries.user_list import UserFilter, search_users

_ORDER = (UnlicensedUser.dataset_id, UnlicensedUser.run, UnlicensedUser.key, UnlicensedUser.user_id)


def _mine(tenant_pk: int) -> Any:
    return UnlicensedUser.dataset_id.in_(select(SyncRun.id).where(SyncRun.tenant_id == tenant_pk))


def _stored_rows(engine: Engine, tenant_pk: int) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        found = connection.execute(select(*_ORDER).where(_mine(tenant_pk)).order_by(*_ORDER))
        return [tuple(row) for row in found]


def _rebuilt_rows(engine: Engine, tenant_pk: int) -> list[tuple[Any, ...]]:
    """The rows a full build writes now (rolled back afterwards)."""
    with engine.connect() as connection, connection.begin() as transaction:
        publish_holders(connection, tenant_pk)
        found = connection.execute(select(*_ORDER).where(_mine(tenant_pk)).order_by(*_ORDER))
        rows = [tuple(row) for row in found]
        transaction.rollback()
    return rows


def _is_stored(engine: Engine) -> bool:
    with session_scope(engine, write=False) as session:
        ref = tenant_refs(session)[0]
        return ref.dataset_id in stored_datasets(session, [ref.id])


def _pages(engine: Engine, filters: UserFilter, limit: int = 7) -> list[dict[str, Any]]:
    """Every user the list shows, page by page (each page in its own read session)."""
    cursor, shown = "", []
    while True:
        with session_scope(engine, write=False) as session:
            page = search_users(session, tenant_refs(session), filters, limit=limit, cursor=cursor)
        shown += [u.model_dump() for u in page.items]
        if not page.has_more:
            return shown
        assert page.next_cursor
        cursor = page.next_cursor


def _walked(
    engine: Engine, filters: UserFilter, monkeypatch: pytest.MonkeyPatch
) -> list[dict[str, Any]]:
    """The same pages walked from the users (the stored list ignored)."""
    with monkeypatch.context() as patch:
        patch.setattr(user_list, "stored_datasets", lambda _session, _ids: set())
        return _pages(engine, filters)


def _unlicensed(tenant: EmulatedTenant) -> set[str]:
    return {u.id for u in users(tenant) if not held(u)}


def _check(
    world: World, monkeypatch: pytest.MonkeyPatch, *, stored: bool = True
) -> list[dict[str, Any]]:
    assert _is_stored(world.engine) is stored
    if stored:
        assert _stored_rows(world.engine, world.pk) == _rebuilt_rows(world.engine, world.pk)
    shown = _pages(world.engine, UserFilter(licensed="no"))
    assert shown == _walked(world.engine, UserFilter(licensed="no"), monkeypatch)
    ids = [u["id"] for u in shown]
    assert len(ids) == len(set(ids))
    assert set(ids) == _unlicensed(world.tenant)
    enabled = UserFilter(licensed="no", state="enabled", kind="member")
    assert _pages(world.engine, enabled) == _walked(world.engine, enabled, monkeypatch)
    return shown


def test_the_assigned_states_are_the_syncs() -> None:
    assert tuple(ASSIGNED_STATES) == tuple(changes.ASSIGNED_STATES)


def test_stored_unlicensed_users_follow_deltas(
    make_emulator: EmulatorFactory,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = _prepared(World(make_emulator, engine, tmp_path, "messy", 3))
    _check(world, monkeypatch)
    tenant = world.tenant
    everyone = users(tenant)
    direct_only = [
        u for u in everyone if held(u) and all(a.assigned_by_group is None for a in u.assignments)
    ]
    loser, erring = direct_only[0], direct_only[1]
    gainer = next(u for u in everyone if not held(u))
    for sku in {a.sku_id for a in loser.assignments}:
        mutations.unassign(tenant, loser.id, sku)
    mutations.assign(tenant, gainer.id, sorted(tenant.products)[0], force=True)
    world.passed.clear()
    assert world.sync("delta").ok
    assert world.passed[0] is not None, "the delta names its changed users"
    shown = _check(world, monkeypatch)
    assert loser.id in {u["id"] for u in shown}
    assert gainer.id not in {u["id"] for u in shown}

    # Every assignment of a user goes to Error: the user holds nothing any more.
    for a in list(erring.assignments):
        failed = LicenseAssignment(a.sku_id, None, a.disabled_plans, "Error", "CountViolation")
        tenant.assign(erring.id, failed)
    world.passed.clear()
    assert world.sync("delta").ok
    assert world.passed[0] is not None
    assert erring.id in {u["id"] for u in _check(world, monkeypatch)}

    rng = random.Random("unlicensed")
    for _ in range(3):
        _mutate(tenant, rng, rng.choice([1, 3, 8]))
        assert world.sync("delta").ok
        _check(world, monkeypatch)


def test_a_failed_delta_leaves_the_stored_unlicensed_users_true(
    make_emulator: EmulatorFactory,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = _prepared(World(make_emulator, engine, tmp_path, "messy", 7))
    before = _check(world, monkeypatch)
    truth = world.tenant
    gainer = next(u for u in users(truth) if not held(u))
    mutations.assign(truth, gainer.id, sorted(truth.products)[0], force=True)
    _mutate(truth, random.Random(1), 6)

    def update_then_fail(
        connection: Connection, tenant_pk: int, /, changed: ChangedUsers | None = None
    ) -> None:
        publish_read_models(connection, tenant_pk, changed=changed)
        raise RuntimeError("the disk filled up while publishing")

    assert not world.sync("delta", hook=update_then_fail).ok
    assert _pages(world.engine, UserFilter(licensed="no")) == before
    assert _is_stored(world.engine)
    assert world.sync("delta").ok
    _check(world, monkeypatch)


def test_a_publish_that_did_not_store_them_walks_the_users(
    make_emulator: EmulatorFactory,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = _prepared(World(make_emulator, engine, tmp_path, "messy", 5))
    _check(world, monkeypatch)
    gainer = next(u for u in users(world.tenant) if not held(u))
    mutations.assign(world.tenant, gainer.id, sorted(world.tenant.products)[0], force=True)

    def without_lists(
        connection: Connection, tenant_pk: int, /, changed: ChangedUsers | None = None
    ) -> None:
        return None

    assert world.sync("delta", hook=without_lists).ok
    shown = _check(world, monkeypatch, stored=False)  # the rows name the previous publish
    assert gainer.id not in {u["id"] for u in shown}
    assert world.sync("delta").ok  # nothing changed since: the next publish writes them again
    assert _check(world, monkeypatch) == shown
