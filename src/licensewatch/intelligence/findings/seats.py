"""Seat findings: purchased seats nobody uses, and products with more holders than seats."""

from __future__ import annotations

from sqlalchemy import select

from licensewatch.intelligence.builtin_names import FREE_PART_NUMBERS
from licensewatch.intelligence.findings.base import Affected, Context, Finding, FindingRule
from licensewatch.intelligence.money import Cost
from licensewatch.storage.models import Sku

UNASSIGNED_FIX = (
    "Reduce the quantity of these subscriptions at their next renewal (Microsoft 365 admin "
    "center > Billing > Your products), or assign the seats to people who need them."
)
OVER_FIX = (
    "Buy the missing seats (Billing > Your products > Buy licences) or remove licences from "
    "people who no longer need them; until then new group members get CountViolation errors."
)


def _products(context: Context, over: bool) -> list[Affected]:
    available = Sku.enabled + Sku.warning - Sku.consumed
    statement = (
        select(Sku.sku_id, Sku.sku_part_number, available)
        .where(Sku.tenant_id == context.tenant_pk, available < 0 if over else available > 0)
        .order_by(Sku.sku_part_number)
    )
    affected: list[Affected] = []
    for sku_id, part, units in context.session.execute(statement):
        if sku_id in context.excluded or (not over and part in FREE_PART_NUMBERS):
            continue
        units = -units if over else units
        name = context.name(sku_id, part)
        detail = f"{units} more assigned than purchased" if over else f"{units} seats unassigned"
        cost = Cost()
        cost.add(*context.price(sku_id), units, name)
        affected.append(Affected(sku_id, name, detail, [name], units, cost))
    return affected


def _finding(context: Context, rule: FindingRule, title: str, fix: str) -> Finding:
    total = Cost()
    affected = _products(context, rule == FindingRule.OVER_ASSIGNED)
    for item in affected:
        total.merge(item.cost)
    count = sum(a.units for a in affected)
    return Finding(rule, title, context.tenant, "products", fix, affected, count, total)


def unassigned_seats(context: Context) -> Finding:
    return _finding(
        context, FindingRule.UNASSIGNED_SEATS, "Unassigned purchased seats", UNASSIGNED_FIX
    )


def over_assigned(context: Context) -> Finding:
    return _finding(context, FindingRule.OVER_ASSIGNED, "Over-assigned products", OVER_FIX)
