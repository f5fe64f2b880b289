"""Savings: the recommendations filtered and summed by action and product, with their usage date.

One read model for the Savings page, its exports, the dashboard card and `GET /api/v1/savings`;
the recommendations themselves come from `intelligence.recommendations`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from licensewatch.intelligence.recommendation_cache import recommendations
from licensewatch.intelligence.recommendations import Action, Confidence, Recommendation
from licensewatch.intelligence.recommendations.status import UsageState, usage_state
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant

ACTIONS = tuple(a.value for a in Action)
CONFIDENCES = tuple(c.value for c in Confidence)
ACTION_LABELS: dict[str, str] = {
    Action.REMOVE: "Remove",
    Action.DOWNGRADE: "Downgrade",
    Action.REMOVE_DUPLICATE: "Remove duplicate",
    Action.REMOVE_ADDON: "Remove add-on",
}


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to (None or "": everything)."""

    action: str | None = None
    product: str | None = None  # a SKU id, part number or friendly name, any case
    confidence: str | None = None

    def __post_init__(self) -> None:
        if self.action and self.action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
        if self.confidence and self.confidence not in CONFIDENCES:
            raise ValueError(f"confidence must be one of {', '.join(CONFIDENCES)}")

    def keep(self, rec: Recommendation) -> bool:
        if self.action and rec.action != self.action:
            return False
        if self.confidence and rec.confidence != self.confidence:
            return False
        if self.product:
            wanted = self.product.strip().lower()
            names = (rec.sku_id, rec.sku_part_number, rec.product_name)
            return wanted in {n.lower() for n in names}
        return True


def _sum(into: dict[str, Decimal], rec: Recommendation) -> None:
    if rec.yearly_saving is not None and rec.currency is not None:
        into[rec.currency] = into.get(rec.currency, Decimal(0)) + rec.yearly_saving


@dataclass
class Savings:
    """Recommendations with yearly savings by currency: in total, per action and per product."""

    items: list[Recommendation] = field(default_factory=list)
    usage: list[UsageState] = field(default_factory=list)
    total: dict[str, Decimal] = field(default_factory=dict)
    by_action: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    by_product: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    unpriced: set[str] = field(default_factory=set)  # products of recommendations with no price

    def add(self, rec: Recommendation) -> None:
        self.items.append(rec)
        if rec.yearly_saving is None:
            self.unpriced.add(rec.product_name)
        _sum(self.total, rec)
        _sum(self.by_action.setdefault(rec.action, {}), rec)
        _sum(self.by_product.setdefault(rec.product_name, {}), rec)

    def narrow(self, filters: Filters) -> Savings:
        """The same usage, only the recommendations the filters keep, summed again."""
        result = Savings(usage=list(self.usage))
        for rec in self.items:
            if filters.keep(rec):
                result.add(rec)
        return result

    def products(self) -> list[tuple[str, dict[str, Decimal], int]]:
        """(product, yearly saving, recommendations), the most money first."""
        counts: dict[str, int] = {}
        for rec in self.items:
            counts[rec.product_name] = counts.get(rec.product_name, 0) + 1
        rows = [(name, amounts, counts[name]) for name, amounts in self.by_product.items()]
        return sorted(rows, key=lambda r: (-sum(r[1].values(), Decimal(0)), r[0].lower()))

    def actions(self) -> list[tuple[str, dict[str, Decimal], int]]:
        """(action, yearly saving, recommendations) in the Action order, absent ones left out."""
        counts: dict[str, int] = {}
        for rec in self.items:
            counts[rec.action] = counts.get(rec.action, 0) + 1
        return [(a, self.by_action[a], counts[a]) for a in ACTIONS if a in self.by_action]

    def to_dict(self) -> dict[str, Any]:
        def money(amounts: dict[str, Decimal]) -> dict[str, str]:
            return {c: f"{a:.2f}" for c, a in sorted(amounts.items())}

        return {
            "yearly_saving": money(self.total),
            "by_action": [
                {"action": a, "yearly_saving": money(m), "count": n} for a, m, n in self.actions()
            ],
            "by_product": [
                {"product": p, "yearly_saving": money(m), "count": n} for p, m, n in self.products()
            ],
            "unpriced": sorted(self.unpriced),
            "usage": [u.to_dict() for u in self.usage],
            "recommendations": [r.to_dict() for r in self.items],
        }


def tenant_savings(
    engine: Engine,
    tenants: Iterable[str],
    filters: Filters | None = None,
    *,
    now: datetime | None = None,
) -> Savings:
    """The savings of the named tenants (the caller's scope is the caller's business)."""
    filters = filters or Filters()
    result = Savings()
    for name in tenants:
        with session_scope(engine, write=False) as session:
            tenant = session.scalar(select(Tenant).where(Tenant.name == name))
            if tenant is None:
                raise LookupError(f"no tenant named {name!r}")
            result.usage.append(usage_state(session, tenant))
            for rec in recommendations(session, tenant, now):
                if filters.keep(rec):
                    result.add(rec)
    result.items.sort(key=lambda r: (-(r.yearly_saving or Decimal(0)), r.tenant.lower()))
    return result
