"""A user rule's stored money after some of its rows were replaced: by difference when that is
exact, else summed again from every row (what a full build does, in its order).

A full build adds its rows' amounts in key order, starting from Decimal 0. When, per currency,
every price's monthly amount has one exponent (36.00, 57.00: not 100.00 a year, 8.333…) and the
totals stay well inside Decimal's 28 digits, no addition rounds: the old total minus the removed
rows plus the added ones is then the very Decimal (value and exponent) a full build reaches. A
currency or an unpriced product that only removed rows had stays in the total only while another
stored row still has it (one indexed-range scan that stops at the first row that has it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from decimal import Context, Decimal, Inexact

from sqlalchemy import ColumnElement, Connection, select

from licensewatch.intelligence.money import Cost
from licensewatch.intelligence.prices import Price
from licensewatch.intelligence.read_models.codec import cost_sum, cost_value
from licensewatch.intelligence.read_models.findings_store import ROWS

_EXACT = Context(prec=28, traps=[Inexact])  # the default precision, refusing to round
_FIRST = 20  # candidate rows read before all of them
_DIGITS = 26  # a total this long or longer: fall back (partial sums must fit 28 digits)


def exponents(prices: Iterable[Price]) -> dict[str, int] | None:
    """The one exponent of each currency's monthly amounts (None: some currency has several,
    or an amount that does not terminate: only the summing in order is exact then)."""
    found: dict[str, set[int]] = {}
    for price in prices:
        exponent = price.monthly.as_tuple().exponent
        if not isinstance(exponent, int) or not -8 <= exponent <= 0:
            return None
        found.setdefault(price.currency, set()).add(exponent)
    if any(len(seen) != 1 for seen in found.values()):
        return None
    return {currency: seen.pop() for currency, seen in found.items()}


def new_total(
    connection: Connection,
    mine: ColumnElement[bool],
    old: Cost,
    removed: list[Cost],
    added: list[Cost],
    steps: dict[str, int] | None,
) -> Cost:
    """The rule's money over its stored rows (`mine`, the replacement written)."""
    total = _by_difference(old, removed, added, steps)
    if total is None:
        texts = connection.scalars(select(ROWS.c.cost).where(mine).order_by(ROWS.c.key))
        return cost_sum(texts)
    kept_currencies = {c for cost in added for c in cost.amounts}
    kept_names = {name for cost in added for name in cost.unpriced}
    for currency in {c for cost in removed for c in cost.amounts} - kept_currencies:
        if not _held(connection, mine, json.dumps(currency) + ":", _has_currency(currency)):
            total.amounts.pop(currency, None)
    for name in {n for cost in removed for n in cost.unpriced} - kept_names:
        if not _held(connection, mine, json.dumps(name), _has_unpriced(name)):
            total.unpriced.discard(name)
    return total


def _by_difference(
    old: Cost, removed: list[Cost], added: list[Cost], steps: dict[str, int] | None
) -> Cost | None:
    if steps is None:
        return None
    amounts = dict(old.amounts)
    try:
        for sign, costs in ((-1, removed), (1, added)):
            for cost in costs:
                for currency, amount in cost.amounts.items():
                    start = amounts.get(currency, Decimal(0))
                    change = amount if sign > 0 else -amount
                    amounts[currency] = _EXACT.add(start, change)
    except Inexact:
        return None
    for currency, amount in amounts.items():
        shape = amount.as_tuple()
        if currency not in steps or shape.exponent != steps[currency]:
            return None  # (a zero total of another exponent, an unknown currency: sum again)
        if len(shape.digits) >= _DIGITS:
            return None
    unpriced = set(old.unpriced)
    for cost in added:
        unpriced |= cost.unpriced
    return Cost(amounts, unpriced)


def _has_currency(currency: str) -> Callable[[Cost], bool]:
    return lambda cost: currency in cost.amounts


def _has_unpriced(name: str) -> Callable[[Cost], bool]:
    return lambda cost: name in cost.unpriced


def _held(
    connection: Connection, mine: ColumnElement[bool], token: str, test: Callable[[Cost], bool]
) -> bool:
    """Whether a stored row's money still has this currency or unpriced product (the LIKE
    narrows the rows, the parse decides: a name may contain the other's text)."""
    pattern = "%" + token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    statement = select(ROWS.c.cost).where(mine, ROWS.c.cost.like(pattern, escape="\\"))
    # The first few candidates nearly always decide (a currency or product many rows share); the
    # driver would fetch every candidate of an unlimited query before the first is looked at.
    for limit in (_FIRST, None):
        texts = connection.scalars(statement.limit(limit))
        if any(test(cost_value(text)) for text in texts):
            return True
    return False
