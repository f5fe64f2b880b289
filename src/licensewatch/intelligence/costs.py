"""Licence costs per month and year: purchased, assigned, unassigned, and by user attribute."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.orm import Session

from licensewatch.domain.assignment_states import ASSIGNED_STATES as ASSIGNED_STATES
from licensewatch.intelligence.catalog import product_names
from licensewatch.intelligence.money import Cost
from licensewatch.intelligence.prices import Price, load_prices, unit_price
from licensewatch.intelligence.settings import CostAttribute, read_settings
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Sku, Tenant, User, UserLicense
from licensewatch.storage.queries import balance_rows, tenants_named

NONE_LABEL = "(not set)"
# Users holding a product per (attribute, value's label, sku_id): what the breakdowns add up.
Holders = dict[tuple[str, str, str], int]


@dataclass
class ProductCost:
    """One product's units and their monthly cost; `price` is None when it has no price."""

    sku_id: str
    name: str
    purchased: int
    assigned: int
    unassigned: int
    price: str | None
    purchased_cost: Cost
    assigned_cost: Cost
    unassigned_cost: Cost

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku_id": self.sku_id,
            "name": self.name,
            "purchased": self.purchased,
            "assigned": self.assigned,
            "unassigned": self.unassigned,
            "price": self.price or "no price",
            "purchased_cost": self.purchased_cost.to_dict(),
            "assigned_cost": self.assigned_cost.to_dict(),
            "unassigned_cost": self.unassigned_cost.to_dict(),
        }


@dataclass
class TenantCosts:
    """A tenant's costs; `breakdowns` maps an attribute to (value, holders, monthly cost)."""

    tenant: str
    products: list[ProductCost] = field(default_factory=list)
    purchased: Cost = field(default_factory=Cost)
    assigned: Cost = field(default_factory=Cost)
    unassigned: Cost = field(default_factory=Cost)
    breakdowns: dict[str, list[tuple[str, int, Cost]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "purchased": self.purchased.to_dict(),
            "assigned": self.assigned.to_dict(),
            "unassigned": self.unassigned.to_dict(),
            "products": [p.to_dict() for p in self.products],
            "breakdowns": {
                attribute: [
                    {"value": value, "licences": units, "cost": cost.to_dict()}
                    for value, units, cost in lines
                ]
                for attribute, lines in self.breakdowns.items()
            },
        }


def attributes(session: Session) -> list[CostAttribute]:
    """Department, country, company and the configured cost-centre attribute."""
    chosen = CostAttribute(read_settings(session)["cost_attribute"])
    base = [CostAttribute.DEPARTMENT, CostAttribute.COUNTRY, CostAttribute.COMPANY_NAME]
    return base + ([chosen] if chosen not in base else [])


def tenant_costs(session: Session, tenant: Tenant, holders: Holders | None = None) -> TenantCosts:
    """Costs of one tenant's current dataset: paid products only (domain/balance.py numbers).

    Purchased is the paid usable units (grace included, trial seats never), unassigned the paid
    seats nobody holds; free and tenant-wide SKUs cost nothing per seat and are left out. The
    breakdowns come from `holders` (`holder_counts` when not given: a stored read model passes
    the counts a delta moved).
    """
    names, prices = product_names(session), load_prices(session)
    result = TenantCosts(tenant.name)
    rows = sorted(balance_rows(session, tenant.name), key=lambda r: (r.sku_part_number, r.sku_id))
    for row in rows:
        if not row.paid:
            continue
        name = names.display_name(row.sku_id, row.sku_part_number)
        price = prices.get(row.sku_id)
        monthly, currency = unit_price(prices, row.sku_id, row.sku_part_number)
        line = ProductCost(
            row.sku_id,
            name,
            row.purchased,
            row.consumed,
            row.unassigned,
            _price_text(price, monthly),
            Cost(),
            Cost(),
            Cost(),
        )
        for cost, units in (
            (line.purchased_cost, row.purchased),
            (line.assigned_cost, row.consumed),
            (line.unassigned_cost, row.unassigned),
        ):
            cost.add(monthly, currency, units, name)
        result.purchased.merge(line.purchased_cost)
        result.assigned.merge(line.assigned_cost)
        result.unassigned.merge(line.unassigned_cost)
        result.products.append(line)
    # The biggest spend first; products without a price after those with one, by name.
    result.products.sort(key=lambda p: (p.purchased_cost.sort_key(), p.price is None, p.name))
    chosen = attributes(session)
    if holders is None:
        holders = holder_counts(session, tenant, chosen)
    result.breakdowns.update(_breakdowns(session, tenant, chosen, holders))
    return result


def _price_text(price: Price | None, monthly: Decimal | None) -> str | None:
    if price is not None:
        return f"{price.amount} {price.currency}/{price.term.value}"
    return "free" if monthly == 0 else None


def holder_counts(session: Session, tenant: Tenant, chosen: list[CostAttribute]) -> Holders:
    """Users holding each product per value of each attribute, from one pass over the licences.

    Grouped by every attribute at once (one scan instead of one per attribute: issue 18, 1M
    users); a user has one value of each, so summing the groups per value stays exact.
    """
    columns = [getattr(User, attribute.value) for attribute in chosen]
    statement = (
        select(*columns, UserLicense.sku_id)
        .add_columns(func.count(func.distinct(UserLicense.user_id)))
        .join(
            UserLicense,
            and_(UserLicense.dataset_id == User.dataset_id, UserLicense.user_id == User.id),
        )
        .where(User.dataset_id == tenant.dataset_id, UserLicense.state.in_(ASSIGNED_STATES))
        .group_by(*columns, UserLicense.sku_id)
    )
    counts: Holders = {}
    for row in session.execute(statement):
        sku_id, holders = row[-2], int(row[-1])
        for attribute, value in zip(chosen, row[: len(chosen)], strict=True):
            key = (attribute.value, label_of(value), sku_id)
            counts[key] = counts.get(key, 0) + holders
    return counts


def label_of(value: str | None) -> str:
    return value or NONE_LABEL


def _breakdowns(
    session: Session, tenant: Tenant, chosen: list[CostAttribute], holders: Holders
) -> dict[str, list[tuple[str, int, Cost]]]:
    """Holders and cost per value of each attribute: each value's products added in SKU order
    (one order, whether the counts were grouped now or moved by a delta)."""
    names, prices = product_names(session), load_prices(session)
    statement = select(Sku.sku_id, Sku.sku_part_number).where(Sku.tenant_id == tenant.id)
    parts: dict[str, str | None] = {sku_id: part for sku_id, part in session.execute(statement)}
    lines: dict[str, dict[str, tuple[int, Cost]]] = {a.value: {} for a in chosen}
    for (attribute, label, sku_id), count in sorted(holders.items()):
        if attribute not in lines or count <= 0:
            continue
        part = parts.get(sku_id)
        monthly, currency = unit_price(prices, sku_id, part)
        units, cost = lines[attribute].get(label, (0, Cost()))
        cost.add(monthly, currency, count, names.display_name(sku_id, part or sku_id))
        lines[attribute][label] = (units + count, cost)
    return {
        attribute: sorted(
            ((label, units, cost) for label, (units, cost) in found.items()),
            key=lambda line: (-sum(line[2].amounts.values()), line[0]),
        )
        for attribute, found in lines.items()
    }


def all_costs(engine: Engine, tenant_name: str | None = None) -> list[TenantCosts]:
    """Costs of one tenant by name, or of every tenant."""
    with session_scope(engine, write=False) as session:
        tenants = tenants_named(session, tenant_name)
        return [tenant_costs(session, tenant) for tenant in tenants]
