"""Renewals by month: how many, the yearly value they commit and the saving at stake."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from licensewatch.intelligence.renewals import RenewalPlan

MONTHS = 12  # the calendar's months from the current one; later renewals are summed apart


@dataclass
class Month:
    """One month of the calendar (`label` "2026-12", or "later")."""

    label: str
    plans: list[RenewalPlan] = field(default_factory=list)
    value: dict[str, Decimal] = field(default_factory=dict)  # renewal per year, by currency
    saving: dict[str, Decimal] = field(default_factory=dict)  # yearly saving, by currency
    unpriced: set[str] = field(default_factory=set)

    def add(self, plan: RenewalPlan) -> None:
        self.plans.append(plan)
        if plan.currency is None or plan.renewal_yearly is None or plan.yearly_saving is None:
            self.unpriced.add(plan.product)
            return
        self.value[plan.currency] = self.value.get(plan.currency, Decimal(0)) + plan.renewal_yearly
        self.saving[plan.currency] = self.saving.get(plan.currency, Decimal(0)) + plan.yearly_saving

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.label,
            "renewals": len(self.plans),
            "renewal_yearly": {c: str(a) for c, a in sorted(self.value.items())},
            "yearly_saving": {c: str(a) for c, a in sorted(self.saving.items())},
            "unpriced": sorted(self.unpriced),
        }


def _label(year: int, month: int, by: int) -> str:
    """`YYYY-MM` of the month `by` months after (year, month)."""
    index = year * 12 + month - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def calendar(plans: Iterable[RenewalPlan], now: datetime) -> list[Month]:
    """The next MONTHS months (empty ones too, so the calendar has no gaps), then "later"."""
    months = [Month(_label(now.year, now.month, n)) for n in range(MONTHS)]
    later = Month("later")
    by_label = {m.label: m for m in months}
    for plan in plans:
        # A date already past (the next sync moves it) belongs to the current month.
        key = max(f"{plan.renews_at:%Y-%m}", months[0].label)
        by_label.get(key, later).add(plan)
    return [*months, later] if later.plans else months


def totals(months: Iterable[Month]) -> Month:
    """Every month summed (the cards: value committed and saving at stake)."""
    total = Month("total")
    for month in months:
        for plan in month.plans:
            total.add(plan)
    return total
