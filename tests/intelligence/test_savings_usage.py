"""The savings' usage state per tenant after real syncs: as of, concealed names, no permission."""

from __future__ import annotations

from pathlib import Path

from intelligence_world import sync
from sqlalchemy import Engine

from database_fixtures import add_tenant
from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.usage_reports import refresh_date
from licensewatch.intelligence.savings import Filters, tenant_savings


def test_each_tenant_says_where_its_usage_stands(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    world = build_world(tenants=5, users=15, seed=2, scenario="msp", cert_dir=tmp_path)
    emulator = make_emulator(world)
    tenants = list(world.tenants.values())
    usable, concealed, unpermitted = tenants[0], tenants[1], tenants[2]
    assert concealed.usage.concealed
    assert not usable.usage.concealed
    for tenant in (usable, concealed, unpermitted):
        sync(engine, emulator, tenant, add_tenant(engine, tenant.domain, tenant.tenant_id))

    names = [usable.domain, concealed.domain, unpermitted.domain]
    savings = tenant_savings(engine, names)
    states = {u.tenant: u for u in savings.usage}
    assert states[usable.domain].state == "ok"
    assert states[usable.domain].as_of == refresh_date(usable)
    assert states[usable.domain].fix is None
    assert states[concealed.domain].state == "concealed"
    assert "Org settings" in (states[concealed.domain].fix or "")
    assert states[unpermitted.domain].state == "missing_permission"
    assert "Reports.Read.All" in (states[unpermitted.domain].fix or "")
    # Without per-user usage only the account-state rules apply: never a downgrade there.
    for name in (concealed.domain, unpermitted.domain):
        assert all(r.action != "downgrade" for r in savings.items if r.tenant == name)
    # The sums are the items': per action and per product, whatever the filters keep.
    removals = savings.narrow(Filters(action="remove"))
    assert {r.action for r in removals.items} == ({"remove"} if removals.items else set())
    assert len(removals.items) == sum(r.action == "remove" for r in savings.items)
