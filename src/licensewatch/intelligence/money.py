"""Money per currency, with the products that have no price kept apart (never counted as 0)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache
from typing import Any

CENT = Decimal("0.01")
# Prices are bounded (`domain.prices`) but unit counts come from Graph: rounding to cents in
# the default 28-digit context raises InvalidOperation on a sum above 10^26 (a 500 on every
# cost page). 60 digits hold any price times any 64-bit count times 12.
_WIDE = Context(prec=60)


def rounded(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP, context=_WIDE)


@dataclass
class Cost:
    """A monthly amount per currency plus the names of products that could not be priced."""

    amounts: dict[str, Decimal] = field(default_factory=dict)
    unpriced: set[str] = field(default_factory=set)

    def add(self, monthly: Decimal | None, currency: str | None, units: int, product: str) -> None:
        """Add `units` of a product; without a price the product is remembered as unpriced.

        A free product (`monthly` 0 without a currency, see `prices.unit_price`) adds nothing.
        """
        if units <= 0 or (monthly == 0 and currency is None):
            return
        if monthly is None or currency is None:
            self.unpriced.add(product)
            return
        self.amounts[currency] = self.amounts.get(currency, Decimal(0)) + monthly * units

    def merge(self, other: Cost) -> None:
        for currency, amount in other.amounts.items():
            self.amounts[currency] = self.amounts.get(currency, Decimal(0)) + amount
        self.unpriced |= other.unpriced

    @property
    def priced(self) -> bool:
        return bool(self.amounts)

    def monthly(self) -> dict[str, Decimal]:
        return {c: rounded(a) for c, a in sorted(self.amounts.items())}

    def yearly(self) -> dict[str, Decimal]:
        return {c: rounded(a * 12) for c, a in sorted(self.amounts.items())}

    def text(self, *, yearly: bool = False, unpriced: bool = True) -> str:
        """`1,234.50 EUR`, `no price`, or `1,234.50 EUR + no price for X`.

        `unpriced=False` leaves the unpriced products out (a table says them once, not per row).
        """
        values = self.yearly() if yearly else self.monthly()
        parts = [f"{amount:,.2f} {currency}" for currency, amount in values.items()]
        if self.unpriced and (unpriced or not parts):
            missing = ", ".join(sorted(self.unpriced))
            parts.append(f"no price for {missing}" if parts else "no price")
        return " + ".join(parts) if parts else "-"

    def sort_key(self) -> Decimal:
        """Biggest money first when sorted ascending by this (currencies added up, unpriced 0)."""
        return -sum(self.amounts.values(), Decimal(0))

    def to_dict(self) -> dict[str, Any]:
        # Equal Decimals give equal cents whatever their exponent (1.0, 1.00), except a zero's
        # sign (-0 rounds to -0.00): the sign is part of the key.
        exact = tuple((c, a, a.is_signed()) for c, a in self.amounts.items())
        monthly, yearly, unpriced, text = _as_dict(exact, frozenset(self.unpriced))
        data: dict[str, Any] = {"monthly": dict(monthly), "yearly": dict(yearly)}
        data.update(unpriced=list(unpriced), text=text)
        return data


# A findings page writes hundreds of affected rows' costs, most of them the same few sums
# (users holding the same products); rounding and formatting one took ≈ 20 µs.
@lru_cache(maxsize=4096)
def _as_dict(
    amounts: tuple[tuple[str, Decimal, bool], ...], unpriced: frozenset[str]
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...], tuple[str, ...], str]:
    cost = Cost({c: a for c, a, _ in amounts}, set(unpriced))
    monthly = tuple((c, str(a)) for c, a in cost.monthly().items())
    yearly = tuple((c, str(a)) for c, a in cost.yearly().items())
    return monthly, yearly, tuple(sorted(unpriced)), cost.text()
