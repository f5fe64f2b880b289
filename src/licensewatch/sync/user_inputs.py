"""Whether a delta changed what the per-user read models read besides users: SKUs, plans, groups."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from licensewatch.storage.models import Group, Sku, SkuServicePlan
from licensewatch.sync.work import Inventory

Pairs = frozenset[tuple[str, str]]
Facts = tuple[Pairs, frozenset[tuple[str, str, str]], Pairs]


def _id(value: Any) -> str:
    # Ids compare without case (GUIDs), and None apart from every text.
    return "\0" if value is None else str(value).lower()


def _name(value: Any) -> str:
    return "\0" if value is None else str(value)


def _facts(skus: Iterable[Any], plans: Iterable[Any], groups: Iterable[Any]) -> Facts:
    return (
        frozenset((_id(s[0]), _name(s[1])) for s in skus),
        frozenset((_id(p[0]), _id(p[1]), _name(p[2])) for p in plans),
        frozenset((_id(g[0]), _name(g[1])) for g in groups),
    )


def stored_facts(connection: Connection, tenant_pk: int) -> Facts:
    """The product part numbers, per-user plans and group names stored for the tenant now."""
    return _facts(
        connection.execute(
            select(Sku.sku_id, Sku.sku_part_number).where(Sku.tenant_id == tenant_pk)
        ),
        connection.execute(
            select(
                SkuServicePlan.sku_id, SkuServicePlan.service_plan_id, SkuServicePlan.applies_to
            ).where(SkuServicePlan.tenant_id == tenant_pk)
        ),
        connection.execute(
            select(Group.id, Group.display_name).where(Group.tenant_id == tenant_pk)
        ),
    )


def inventory_facts(inventory: Inventory) -> Facts:
    """The same facts of an inventory read from Graph (what the publish will store)."""
    return _facts(
        ((s["sku_id"], s["sku_part_number"]) for s in inventory.skus),
        ((p["sku_id"], p["service_plan_id"], p.get("applies_to")) for p in inventory.plans),
        ((g["id"], g.get("display_name")) for g in inventory.groups),
    )
