"""Money and name lists as JSON text in read-model rows, exact both ways (Decimal as strings)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from licensewatch.intelligence.money import Cost


def cost_text(cost: Cost) -> str:
    """The exact amounts (not rounded: sums of rows must stay exact) and the unpriced names."""
    amounts = {currency: str(amount) for currency, amount in sorted(cost.amounts.items())}
    return json.dumps({"a": amounts, "u": sorted(cost.unpriced)}, separators=(",", ":"))


def _cost(data: dict[str, Any]) -> Cost:
    return Cost({c: Decimal(a) for c, a in data["a"].items()}, set(data["u"]))


def cost_value(text: str) -> Cost:
    return _cost(json.loads(text))


def costs_text(costs: list[Cost]) -> str:
    return "[" + ",".join(cost_text(cost) for cost in costs) + "]"


def costs_value(text: str) -> list[Cost]:
    return [_cost(item) for item in json.loads(text)]


def names_text(names: list[str]) -> str:
    return json.dumps(names, separators=(",", ":"), ensure_ascii=False)


def names_value(text: str) -> list[str]:
    value: list[str] = json.loads(text)
    return value
