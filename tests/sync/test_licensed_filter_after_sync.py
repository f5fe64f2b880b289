"""The users list's licensed filter after delta syncs that license and unlicense users, and after
a failed one: exactly the users Graph says hold (or hold no) assigned licence."""

from __future__ import annotations

from pathlib import Path

from emulated_tenant import fast_client, register
from emulated_tenant import start as start_emulator
from sqlalchemy import Engine

from emulator_fixtures import EmulatorFactory, connect
from licensewatch.emulator import mutations
from licensewatch.emulator.state import ASSIGNED_STATES, Tenant
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import SyncKind, SyncStatus
from licensewatch.sync.runner import run_sync
from licensewatch.web.queries.common import tenant_refs
from licensewatch.web.queries.user_list import UserFilter, search_users


def _listed(engine: Engine, licensed: str) -> set[str]:
    """Every user the list shows for the filter (one page: the tenant is far below the budget)."""
    with session_scope(engine, write=False) as session:
        page = search_users(session, tenant_refs(session), UserFilter(licensed=licensed), limit=500)
    assert not page.has_more
    return {user.id for user in page.items}


def _truth(tenant: Tenant) -> tuple[set[str], set[str]]:
    """(licensed, unlicensed) user ids as the emulated directory has them now."""
    users = [user for _, user in tenant.iter_users_from(0)]
    held = {u.id for u in users if any(a.state in ASSIGNED_STATES for a in u.assignments)}
    return held, {u.id for u in users} - held


def _check(engine: Engine, tenant: Tenant) -> None:
    held, unlicensed = _truth(tenant)
    assert _listed(engine, "yes") == held
    assert _listed(engine, "no") == unlicensed


def test_licensed_filter_follows_deltas_and_ignores_a_failed_one(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    emulator, injector = start_emulator(make_emulator, users=80, seed=7, cert_dir=tmp_path)
    tenant = next(iter(emulator.world.tenants.values()))
    tenant_pk = register(engine, tenant)
    connection = connect(emulator, tenant)
    assert run_sync(engine, tenant_pk, connection, client_factory=fast_client).ok
    _check(engine, tenant)

    # One user loses every direct licence (no group ones), another gains a first licence.
    users = [user for _, user in tenant.iter_users_from(0)]
    loser = next(
        u
        for u in users
        if u.assignments and all(a.assigned_by_group is None for a in u.assignments)
    )
    for sku in {a.sku_id for a in loser.assignments}:
        mutations.unassign(tenant, loser.id, sku)
    gainer = next(u for u in users if not u.assignments and u.id != loser.id)
    product = max(tenant.products.values(), key=lambda p: mutations.free_units(tenant, p.sku_id))
    mutations.assign(tenant, gainer.id, product.sku_id, force=True)
    delta = run_sync(engine, tenant_pk, connection, mode="delta", client_factory=fast_client)
    assert delta.ok, delta.error_message
    assert delta.kind == SyncKind.DELTA
    assert loser.id in _listed(engine, "no")
    assert gainer.id in _listed(engine, "yes")
    _check(engine, tenant)

    # A delta that fails midway leaves the list as the last completed sync stored it.
    before = _truth(tenant)
    mutations.assign(tenant, loser.id, product.sku_id, force=True)
    for sku in {a.sku_id for a in gainer.assignments}:
        mutations.unassign(tenant, gainer.id, sku)
    injector.configure("503@/v1.0/users/delta")
    failed = run_sync(engine, tenant_pk, connection, mode="delta", client_factory=fast_client)
    assert failed.status == SyncStatus.FAILED
    assert (_listed(engine, "yes"), _listed(engine, "no")) == before

    injector.configure("")
    assert run_sync(engine, tenant_pk, connection, mode="delta", client_factory=fast_client).ok
    _check(engine, tenant)
    assert loser.id in _listed(engine, "yes")
    assert gainer.id in _listed(engine, "no")
