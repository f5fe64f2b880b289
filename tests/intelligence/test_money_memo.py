"""`Cost.to_dict` is memoised by amounts: the same answer as rounding and formatting each time."""

from __future__ import annotations

from decimal import Decimal

from licensewatch.intelligence.money import Cost, rounded


def _direct(cost: Cost) -> dict[str, object]:
    return {
        "monthly": {c: str(rounded(a)) for c, a in sorted(cost.amounts.items())},
        "yearly": {c: str(rounded(a * 12)) for c, a in sorted(cost.amounts.items())},
        "unpriced": sorted(cost.unpriced),
        "text": cost.text(),
    }


def test_memoised_dicts_equal_the_direct_ones() -> None:
    costs = [
        Cost({"EUR": Decimal("0")}),
        Cost({"EUR": Decimal("-0")}),  # equal to 0, but rounds to -0.00
        Cost({"EUR": Decimal("1.0")}),
        Cost({"EUR": Decimal("1.00")}),
        Cost({"EUR": Decimal("1.005"), "USD": Decimal("8.3333333")}, {"Visio"}),
        Cost({"USD": Decimal("8.3333333"), "EUR": Decimal("1.005")}, {"Visio", "Project"}),
        Cost(unpriced={"Visio"}),
        Cost(),
    ]
    for _ in range(2):  # computed, then from the memo
        assert [c.to_dict() for c in costs] == [_direct(c) for c in costs]
    first = costs[4].to_dict()
    first["monthly"]["EUR"] = "changed"
    first["unpriced"].append("x")
    assert costs[4].to_dict() == _direct(costs[4])  # a caller's change never reaches the memo
