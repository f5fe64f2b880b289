"""consumedUnits kept from the change log equal a recount of every user, after any change."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from licensewatch.emulator import mutations
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.state import Tenant


def _recount(tenant: Tenant) -> dict[str, int]:
    counts = Counter(sku for _, u in tenant.iter_users_from(0) for sku in u.assigned_sku_ids())
    found = dict.fromkeys(tenant.products, 0)
    found.update((sku, n) for sku, n in counts.items() if n)
    return found


def test_counts_follow_every_kind_of_change(tmp_path: Path) -> None:
    world = build_world(tenants=1, users=300, seed=8, scenario="messy", cert_dir=tmp_path)
    tenant = next(iter(world.tenants.values()))
    rng = random.Random(8)
    skus = [p.part_number for p in tenant.products.values()]
    groups = list(tenant.groups)
    first = dict(tenant.consumed_units())
    assert first == _recount(tenant)
    for step in range(120):
        users = [u for _, u in tenant.iter_users_from(0)]
        user = rng.choice(users)
        kind = step % 6
        try:
            if kind == 0:
                mutations.assign(tenant, user.id, rng.choice(skus))
            elif kind == 1 and user.assigned_sku_ids():
                product = tenant.products[rng.choice(user.assigned_sku_ids())]
                mutations.unassign(tenant, user.id, product.part_number)
            elif kind == 2:
                mutations.delete(tenant, user.id)
            elif kind == 3:
                mutations.hire(tenant, {"displayName": f"New {step}"}, [rng.choice(skus)])
            elif kind == 4 and groups:
                mutations.add_member(tenant, rng.choice(groups), user.id)
            elif kind == 5 and groups:
                mutations.remove_member(tenant, rng.choice(groups), user.id)
        except ValueError:
            continue  # no free unit, already a member…: the model refused, nothing changed
        if step % 7 == 0:  # counts are asked for now and then, as Graph clients do
            assert tenant.consumed_units() == _recount(tenant), step
    assert tenant.consumed_units() == _recount(tenant) != first
