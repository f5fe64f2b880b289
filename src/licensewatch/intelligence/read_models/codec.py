"""Money and name lists as JSON text in read-model rows, exact both ways (Decimal as strings)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from licensewatch.intelligence.money import Cost


def cost_text(cost: Cost) -> str:
    """The exact amounts (not rounded: sums of rows must stay exact) and the unpriced names."""
    return _cost_json(tuple(sorted(cost.amounts.items())), tuple(sorted(cost.unpriced)))


@lru_cache(maxsize=4096)
def _cost_json(amounts: tuple[tuple[str, Decimal], ...], unpriced: tuple[str, ...]) -> str:
    # A rule's rows repeat a few costs (users holding the same products): encode each once.
    data = {"a": {currency: str(amount) for currency, amount in amounts}, "u": list(unpriced)}
    return json.dumps(data, separators=(",", ":"))


def _cost(data: dict[str, Any]) -> Cost:
    return Cost({c: Decimal(a) for c, a in data["a"].items()}, set(data["u"]))


@lru_cache(maxsize=4096)
def _parsed_cost(text: str) -> tuple[tuple[tuple[str, Decimal], ...], frozenset[str]]:
    # Rows of one rule repeat a few texts (users holding the same products): parse each once.
    cost = _cost(json.loads(text))
    return tuple(cost.amounts.items()), frozenset(cost.unpriced)


def cost_value(text: str) -> Cost:
    """A new Cost (callers may merge into it) from the cached parse of its text."""
    amounts, unpriced = _parsed_cost(text)
    return Cost(dict(amounts), set(unpriced))


def costs_text(costs: list[Cost]) -> str:
    return "[" + ",".join(cost_text(cost) for cost in costs) + "]"


def costs_value(text: str) -> list[Cost]:
    return [_cost(item) for item in json.loads(text)]


def names_text(names: list[str]) -> str:
    return _names_json(tuple(names))


@lru_cache(maxsize=4096)
def _names_json(names: tuple[str, ...]) -> str:
    return json.dumps(list(names), separators=(",", ":"), ensure_ascii=False)


@lru_cache(maxsize=4096)
def _parsed_names(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


def names_value(text: str) -> list[str]:
    return list(_parsed_names(text))


def cost_sum(texts: Iterable[str]) -> Cost:
    """The total of stored row costs, added in the given order exactly as `Cost.merge` would
    (a rule's total is its rows merged in order: the same additions give the same Decimal)."""
    total = Cost()
    amounts, unpriced = total.amounts, total.unpriced
    for text in texts:
        parsed, names = _parsed_cost(text)
        for currency, amount in parsed:
            amounts[currency] = amounts.get(currency, Decimal(0)) + amount
        unpriced |= names
    return total
