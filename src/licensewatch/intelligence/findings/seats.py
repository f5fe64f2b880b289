"""Seat findings: paid seats nobody uses, products with more holders than seats, lapsed products.

Every number is the domain's (domain/units.py): free and tenant-wide SKUs and trial seats are never
waste, and holders of units that were not renewed are "lapsed", never "buy seats".
"""

from __future__ import annotations

from collections.abc import Callable

from licensewatch.domain.balance import BalanceRow
from licensewatch.intelligence.findings.base import Affected, Context, Finding, FindingRule
from licensewatch.intelligence.money import Cost
from licensewatch.storage.queries import balance_rows

UNASSIGNED_FIX = (
    "Reduce the quantity of these subscriptions at their next renewal (Microsoft 365 admin "
    "center > Billing > Your products), or assign the seats to people who need them."
)
OVER_FIX = (
    "Buy the missing seats (Billing > Your products > Buy licences) or remove licences from "
    "people who no longer need them; until then new group members get CountViolation errors."
)
LAPSED_FIX = (
    "These products were not renewed: their holders keep units that can no longer be assigned. "
    "Renew or reactivate the subscription (Microsoft 365 admin center > Billing > Your "
    "products), or move the holders to another product before the date; do not buy new seats."
)


def lapsed_detail(row: BalanceRow) -> str:
    """What happened to a lapsed product's units, how many still hold them, and until when."""
    state = row.capability_status or "lapsed"
    when = f" until {row.lapsed_until:%Y-%m-%d}" if row.lapsed_until else ""
    units = row.suspended + row.locked_out
    return (
        f"lapsed with {row.lapsed_holders} holders: {state}, {units} units no longer "
        f"assignable{when} ({row.purchased + row.trial} usable)"
    )


def _products(
    context: Context, units: Callable[[BalanceRow], int], detail: Callable[[BalanceRow], str]
) -> list[Affected]:
    affected: list[Affected] = []
    for row in balance_rows(context.session, context.tenant):
        count = units(row)
        if count <= 0 or row.sku_id in context.excluded:
            continue
        name = context.name(row.sku_id, row.sku_part_number)
        cost = Cost()
        cost.add(*context.price(row.sku_id), count, name)
        affected.append(Affected(row.sku_id, name, detail(row), [name], count, cost))
    return affected


def _finding(
    context: Context, rule: FindingRule, title: str, fix: str, affected: list[Affected]
) -> Finding:
    total = Cost()
    for item in affected:
        total.merge(item.cost)
    count = sum(a.units for a in affected)
    return Finding(rule, title, context.tenant, "products", fix, affected, count, total)


def unassigned_seats(context: Context) -> Finding:
    affected = _products(
        context, lambda r: r.unassigned, lambda r: f"{r.unassigned} seats unassigned"
    )
    return _finding(
        context,
        FindingRule.UNASSIGNED_SEATS,
        "Unassigned purchased seats",
        UNASSIGNED_FIX,
        affected,
    )


def over_assigned(context: Context) -> Finding:
    affected = _products(
        context,
        lambda r: r.over_assigned_units,
        lambda r: f"{r.over_assigned_units} more assigned than purchased",
    )
    return _finding(
        context, FindingRule.OVER_ASSIGNED, "Over-assigned products", OVER_FIX, affected
    )


def lapsed_products(context: Context) -> Finding:
    """Products whose units were not renewed (Suspended, LockedOut, Deleted) and still held."""
    affected = _products(context, lambda r: r.lapsed_holders, lapsed_detail)
    return _finding(
        context, FindingRule.LAPSED_PRODUCTS, "Lapsed products with holders", LAPSED_FIX, affected
    )
