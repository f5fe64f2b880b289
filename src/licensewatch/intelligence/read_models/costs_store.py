"""Costs read model: a tenant's totals, its product lines and each breakdown, written and read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.costs import Holders, ProductCost, TenantCosts, attributes
from licensewatch.intelligence.read_models.codec import (
    cost_text,
    cost_value,
    costs_text,
    costs_value,
)
from licensewatch.storage.models.read_models import CostHolder, CostLine, CostSummary
from licensewatch.storage.writers import bulk_insert

LINES: Table = CostLine.__table__  # type: ignore[assignment]
HOLDERS: Table = CostHolder.__table__  # type: ignore[assignment]
HOLDER_COLUMNS = ("tenant_id", "attribute", "label", "sku_id", "holders")
LINE_COLUMNS: tuple[str, ...] = ("tenant_id", "section", "position", "key", "name")
LINE_COLUMNS += ("purchased", "assigned", "unassigned", "price", "costs")
PRODUCTS = "products"
BY = "by:"  # a breakdown's section: "by:department"


def write_costs(
    session: Session,
    tenant_pk: int,
    costs: TenantCosts,
    *,
    dataset_id: int | None,
    fingerprint: str,
    computed_at: datetime,
    build_ms: int,
) -> None:
    """Replace a tenant's stored costs (a few hundred lines at most: one per product or value)."""
    connection = session.connection()
    connection.execute(delete(LINES).where(LINES.c.tenant_id == tenant_pk))
    connection.execute(delete(CostSummary).where(CostSummary.tenant_id == tenant_pk))
    connection.execute(
        insert(CostSummary).values(
            tenant_id=tenant_pk,
            dataset_id=dataset_id,
            fingerprint=fingerprint,
            computed_at=computed_at,
            build_ms=build_ms,
            purchased=cost_text(costs.purchased),
            assigned=cost_text(costs.assigned),
            unassigned=cost_text(costs.unassigned),
        )
    )
    lines: list[tuple[Any, ...]] = [
        (
            *(tenant_pk, PRODUCTS, n, p.sku_id, p.name, p.purchased, p.assigned, p.unassigned),
            *(p.price, costs_text([p.purchased_cost, p.assigned_cost, p.unassigned_cost])),
        )
        for n, p in enumerate(costs.products)
    ]
    for attribute, values in costs.breakdowns.items():
        lines += [
            (tenant_pk, BY + attribute, n, value, value, units, 0, 0, None, costs_text([cost]))
            for n, (value, units, cost) in enumerate(values)
        ]
    bulk_insert(connection, LINES, LINE_COLUMNS, lines)


def write_holders(session: Session, tenant_pk: int, holders: Holders) -> None:
    """Replace the holder counts the breakdowns were computed from (a full build)."""
    connection = session.connection()
    connection.execute(delete(HOLDERS).where(HOLDERS.c.tenant_id == tenant_pk))
    rows = ((tenant_pk, *key, count) for key, count in sorted(holders.items()) if count > 0)
    bulk_insert(connection, HOLDERS, HOLDER_COLUMNS, rows)


def read_holders(session: Session, tenant_pk: int) -> Holders:
    statement = select(HOLDERS.c.attribute, HOLDERS.c.label, HOLDERS.c.sku_id, HOLDERS.c.holders)
    rows = session.execute(statement.where(HOLDERS.c.tenant_id == tenant_pk))
    return {(attribute, label, sku): count for attribute, label, sku, count in rows}


def move_holders(session: Session, tenant_pk: int, holders: Holders, keys: set[Any]) -> None:
    """Store the counts of these keys as they are in `holders` now (a delta moved them)."""
    connection = session.connection()
    if keys:
        statement = delete(HOLDERS).where(
            HOLDERS.c.tenant_id == tenant_pk,
            HOLDERS.c.attribute == bindparam("moved_attribute"),
            HOLDERS.c.label == bindparam("moved_label"),
            HOLDERS.c.sku_id == bindparam("moved_sku"),
        )
        names = ("moved_attribute", "moved_label", "moved_sku")
        connection.execute(statement, [dict(zip(names, key, strict=True)) for key in sorted(keys)])
    rows = [(tenant_pk, *key, holders[key]) for key in sorted(keys) if holders.get(key, 0) > 0]
    bulk_insert(connection, HOLDERS, HOLDER_COLUMNS, rows)


def summary(session: Session, tenant_pk: int) -> CostSummary | None:
    return session.get(CostSummary, tenant_pk)


def read_costs(session: Session, stored: CostSummary, tenant: str) -> TenantCosts:
    """The costs a tenant's stored rows describe, in their stored order."""
    result = TenantCosts(
        tenant,
        purchased=cost_value(stored.purchased),
        assigned=cost_value(stored.assigned),
        unassigned=cost_value(stored.unassigned),
    )
    statement = (
        select(LINES)
        .where(LINES.c.tenant_id == stored.tenant_id)
        .order_by(LINES.c.section, LINES.c.position)
    )
    breakdowns: dict[str, list[tuple[str, int, Any]]] = {}
    for line in session.execute(statement):
        costs = costs_value(line.costs)
        if line.section == PRODUCTS:
            result.products.append(
                ProductCost(
                    line.key, line.name, line.purchased, line.assigned, line.unassigned,
                    line.price, *costs,
                )
            )  # fmt: skip
        else:
            breakdowns.setdefault(line.section[len(BY) :], []).append(
                (line.name, line.purchased, costs[0])
            )
    # Every attribute in the order costs computes them (the setting is part of the
    # fingerprint, so it is the one these rows were built with), an empty one included.
    for attribute in attributes(session):
        result.breakdowns[attribute.value] = breakdowns.get(attribute.value, [])
    return result
