"""The stored product holders follow full and delta syncs: every product's holders pages read
from them equal the pages walked from the users, after a delta that adds or removes a holder, a
failed delta, and a publish that did not store them (the pages then walk the users); and the
page's counts (the SKUs' stored aggregates) equal a count of the rows each time.

Real syncs over TLS through the emulator (the read-model worlds of test_read_models_incremental).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from intelligence_world import held, users
from sqlalchemy import Connection, Engine, case, func, select
from test_read_models_incremental import World, _mutate, _prepared

from emulator_fixtures import EmulatorFactory
from licensewatch.domain.changed_users import ChangedUsers
from licensewatch.emulator import mutations
from licensewatch.intelligence.read_models.build import publish_read_models
from licensewatch.intelligence.read_models.holders_store import publish_holders
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Sku, SyncRun, Tenant, User, UserLicense
from licensewatch.storage.models.holders import ProductHolder
from licensewatch.sync.changes import sku_aggregates
from licensewatch.web.queries import holders as holders_module
from licensewatch.web.queries.common import tenant_refs


def _stored_rows(engine: Engine, tenant_pk: int) -> list[tuple[Any, ...]]:
    with session_scope(engine, write=False) as session:
        h = ProductHolder
        order = (h.dataset_id, h.sku_id, h.run, h.key, h.user_id)
        mine = h.dataset_id.in_(select(SyncRun.id).where(SyncRun.tenant_id == tenant_pk))
        found = session.execute(select(*order).where(mine).order_by(*order))
        return [tuple(row) for row in found]


def _rebuilt_rows(engine: Engine, tenant_pk: int) -> list[tuple[Any, ...]]:
    """The rows a full build writes now (rolled back afterwards)."""
    with engine.connect() as connection, connection.begin() as transaction:
        publish_holders(connection, tenant_pk)
        h = ProductHolder
        order = (h.dataset_id, h.sku_id, h.run, h.key, h.user_id)
        mine = h.dataset_id.in_(select(SyncRun.id).where(SyncRun.tenant_id == tenant_pk))
        found = connection.execute(select(*order).where(mine).order_by(*order))
        rows = [tuple(row) for row in found]
        transaction.rollback()
    return rows


def _distinct_rows(engine: Engine, tenant_pk: int) -> list[tuple[Any, ...]]:
    """The current dataset's holders by their definition, independently of the store: one row
    per distinct (product, user), keyed as the users list orders users."""
    with engine.connect() as connection:
        dataset = connection.scalar(select(Tenant.dataset_id).where(Tenant.id == tenant_pk))
        upn = User.user_principal_name
        run = case((upn.is_(None), 0), else_=1)
        key = func.coalesce(func.lower(upn), User.id)
        found = connection.execute(
            select(UserLicense.dataset_id, UserLicense.sku_id, run, key, User.id)
            .distinct()
            .join(
                User, (User.dataset_id == UserLicense.dataset_id) & (User.id == UserLicense.user_id)
            )
            .where(UserLicense.dataset_id == dataset)
        )
        return sorted(tuple(row) for row in found)


def _held_twice(engine: Engine, tenant_pk: int) -> int:
    """How many (user, product) pairs of the current dataset have more than one assignment."""
    with engine.connect() as connection:
        dataset = connection.scalar(select(Tenant.dataset_id).where(Tenant.id == tenant_pk))
        ul = UserLicense
        pairs = (
            select(ul.user_id, ul.sku_id)
            .where(ul.dataset_id == dataset)
            .group_by(ul.user_id, ul.sku_id)
            .having(func.count() > 1)
        )
        return connection.scalar(select(func.count()).select_from(pairs.subquery())) or 0


def _pages(engine: Engine, *, stored: bool, limit: int = 7) -> dict[str, list[Any]]:
    """Every product's holders, page by page (each page in its own read session)."""
    with session_scope(engine, write=False) as session:
        ref = tenant_refs(session)[0]
        skus = sorted(session.scalars(select(Sku.sku_id).where(Sku.tenant_id == ref.id)))
        assert holders_module._stored(session, ref) is stored
    found: dict[str, list[Any]] = {}
    for sku in skus:
        cursor, rows = "", []
        while True:
            with session_scope(engine, write=False) as session:
                ref = tenant_refs(session)[0]
                page = holders_module.holders(session, ref, sku, limit=limit, cursor=cursor)
            rows += [h.model_dump() for h in page.items]
            if not page.has_more:
                break
            assert page.next_cursor
            cursor = page.next_cursor
        found[sku] = rows
    return found


def _walked(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """The same pages walked from the users (the stored rows ignored)."""
    with monkeypatch.context() as patch:
        patch.setattr(holders_module, "_stored", lambda _session, _tenant: False)
        return _pages(engine, stored=False)


def _counts(engine: Engine, tenant_pk: int) -> None:
    """The product page's counts (the SKU's stored aggregates) equal a count from the rows."""
    with engine.connect() as connection:
        dataset = connection.scalar(select(Tenant.dataset_id).where(Tenant.id == tenant_pk))
        assert dataset is not None
        counted = sku_aggregates(connection, dataset)
        stored = connection.execute(
            select(
                Sku.sku_id, Sku.direct_assigned, Sku.group_assigned, Sku.assignment_errors
            ).where(Sku.tenant_id == tenant_pk)
        )
        for sku_id, *counts in stored:
            assert tuple(counts) == counted.get(sku_id, (0, 0, 0)), sku_id


def _check(world: World, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    _counts(world.engine, world.pk)
    assert _stored_rows(world.engine, world.pk) == _rebuilt_rows(world.engine, world.pk)
    shown = _pages(world.engine, stored=True)
    assert shown == _walked(world.engine, monkeypatch)
    return shown


def test_stored_holders_follow_deltas_that_add_and_remove_holders(
    make_emulator: EmulatorFactory,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = _prepared(World(make_emulator, engine, tmp_path, "messy", 3))
    _check(world, monkeypatch)
    tenant = world.tenant
    everyone = users(tenant)
    sku = sorted(tenant.products)[0]
    newcomer = next(u for u in everyone if sku not in held(u) and u.account_enabled)
    leaver = next(u for u in everyone if sku in held(u) and any(
        a.sku_id == sku and a.assigned_by_group is None for a in u.assignments
    ))  # fmt: skip
    mutations.assign(tenant, newcomer.id, sku, force=True)
    mutations.unassign(tenant, leaver.id, sku)
    world.passed.clear()
    assert world.sync("delta").ok
    assert world.passed[0] is not None, "the delta names its changed users"
    shown = {h["user_id"] for h in _check(world, monkeypatch)[sku]}
    assert newcomer.id in shown
    assert leaver.id not in shown or sku in held(leaver)  # a group may still give it
    rng = random.Random("holders")
    for _ in range(3):
        _mutate(tenant, rng, rng.choice([1, 3, 8]))
        assert world.sync("delta").ok
        _check(world, monkeypatch)


def test_a_failed_delta_leaves_the_stored_holders_true(
    make_emulator: EmulatorFactory,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = _prepared(World(make_emulator, engine, tmp_path, "messy", 7))
    before = _check(world, monkeypatch)
    _mutate(world.tenant, random.Random(1), 6)

    def update_then_fail(
        connection: Connection, tenant_pk: int, /, changed: ChangedUsers | None = None
    ) -> None:
        publish_read_models(connection, tenant_pk, changed=changed)
        raise RuntimeError("the disk filled up while publishing")

    assert not world.sync("delta", hook=update_then_fail).ok
    assert _check(world, monkeypatch) == before
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
    sku = sorted(world.tenant.products)[0]
    user = next(u for u in users(world.tenant) if sku not in held(u) and u.account_enabled)
    mutations.assign(world.tenant, user.id, sku, force=True)

    def without_holders(
        connection: Connection, tenant_pk: int, /, changed: ChangedUsers | None = None
    ) -> None:
        return None

    assert world.sync("delta", hook=without_holders).ok
    shown = _pages(world.engine, stored=False)  # the rows name the previous publish
    assert user.id in {h["user_id"] for h in shown[sku]}
    assert world.sync("delta").ok  # nothing changed since: the next publish writes them again
    assert _check(world, monkeypatch) == shown


def test_a_product_held_twice_is_one_holder_row(
    make_emulator: EmulatorFactory,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A user holding a product directly and through a group: one row (the full build lets the
    primary key drop the repeat on SQLite), after a full sync and after a delta."""
    world = _prepared(World(make_emulator, engine, tmp_path, "messy", 11))
    tenant = world.tenant
    via_group = [(u, a.sku_id) for u in users(tenant) for a in u.assignments if a.assigned_by_group]
    assert len(via_group) >= 2, "the scenario has group-based licences"
    (first, first_sku), (second, second_sku) = via_group[0], via_group[-1]
    mutations.assign(tenant, first.id, first_sku, force=True)
    assert world.sync("full").ok
    assert _held_twice(world.engine, world.pk) >= 1
    assert _stored_rows(world.engine, world.pk) == _distinct_rows(world.engine, world.pk)
    _check(world, monkeypatch)
    mutations.assign(tenant, second.id, second_sku, force=True)
    assert world.sync("delta").ok
    assert _held_twice(world.engine, world.pk) >= 2
    assert _stored_rows(world.engine, world.pk) == _distinct_rows(world.engine, world.pk)
    _check(world, monkeypatch)
