"""Savings: the recommendations filtered and summed by action and product, with their usage date.

What the Savings page, its exports, the dashboard card and `GET /api/v1/savings` show, read from
the stored recommendations (`read_models/recommendations_*`): the sums from each tenant's summary,
one page of recommendations by keyset, or all of them streamed for an export.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Engine

from licensewatch.intelligence.read_models import recommendations_store as store
from licensewatch.intelligence.read_models.recommendations_readers import (
    Snapshot,
    read_fresh,
    stream_fresh,
)
from licensewatch.intelligence.recommendations import Action, Confidence, Recommendation
from licensewatch.intelligence.recommendations.status import UsageState

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

    @property
    def active(self) -> bool:
        return bool(self.action or self.product or self.confidence)

    def condition(self, snapshot: Snapshot, kept: list[store.Group]) -> ColumnElement[bool]:
        """The stored rows these filters keep (`kept`: the summaries' groups they keep)."""
        return snapshot.condition(
            kept, action=self.action, confidence=self.confidence, product=self.product
        )


def _sum(into: dict[str, Decimal], rec: Recommendation) -> None:
    if rec.yearly_saving is not None and rec.currency is not None:
        into[rec.currency] = into.get(rec.currency, Decimal(0)) + rec.yearly_saving


def _add_to(into: dict[str, Decimal], amounts: dict[str, Decimal]) -> None:
    for currency, amount in amounts.items():
        into[currency] = into.get(currency, Decimal(0)) + amount


@dataclass
class Savings:
    """Recommendations with yearly savings by currency: in total, per action and per product.

    The sums and counts cover every recommendation the filters keep; `items` holds one page of
    them (or all, when read unpaged), `next_cursor` the next page's start.
    """

    items: list[Recommendation] = field(default_factory=list)
    usage: list[UsageState] = field(default_factory=list)
    total: dict[str, Decimal] = field(default_factory=dict)
    by_action: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    by_product: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    unpriced: set[str] = field(default_factory=set)  # products of recommendations with no price
    action_counts: dict[str, int] = field(default_factory=dict)
    product_counts: dict[str, int] = field(default_factory=dict)
    count: int = 0
    users: int = 0
    all_products: list[str] = field(default_factory=list)  # of every recommendation, unfiltered
    next_cursor: str | None = None

    def add(self, rec: Recommendation) -> None:
        """One more recommendation, in the list and in the sums (a list built in memory)."""
        self.items.append(rec)
        self.count += 1
        if rec.yearly_saving is None:
            self.unpriced.add(rec.product_name)
        _sum(self.total, rec)
        _sum(self.by_action.setdefault(rec.action, {}), rec)
        _sum(self.by_product.setdefault(rec.product_name, {}), rec)
        self.action_counts[rec.action] = self.action_counts.get(rec.action, 0) + 1
        self.product_counts[rec.product_name] = self.product_counts.get(rec.product_name, 0) + 1
        self.users = len({r.user_principal_name.lower() for r in self.items})

    def add_group(self, group: store.Group) -> None:
        """A stored group's count and savings, in the sums (its rows are read by page)."""
        self.count += group.count
        if group.unpriced:
            self.unpriced.add(group.product)
        _add_to(self.total, group.yearly)
        _add_to(self.by_action.setdefault(group.action, {}), group.yearly)
        _add_to(self.by_product.setdefault(group.product, {}), group.yearly)
        self.action_counts[group.action] = self.action_counts.get(group.action, 0) + group.count
        counts = self.product_counts
        counts[group.product] = counts.get(group.product, 0) + group.count

    def narrow(self, filters: Filters) -> Savings:
        """The same usage, only the listed recommendations the filters keep, summed again."""
        result = Savings(usage=list(self.usage))
        for rec in self.items:
            if filters.keep(rec):
                result.add(rec)
        return result

    def products(self) -> list[tuple[str, dict[str, Decimal], int]]:
        """(product, yearly saving, recommendations), the most money first."""
        rows = [(n, amounts, self.product_counts[n]) for n, amounts in self.by_product.items()]
        return sorted(rows, key=lambda r: (-sum(r[1].values(), Decimal(0)), r[0].lower()))

    def actions(self) -> list[tuple[str, dict[str, Decimal], int]]:
        """(action, yearly saving, recommendations) in the Action order, absent ones left out."""
        return [
            (a, self.by_action[a], self.action_counts[a]) for a in ACTIONS if a in self.by_action
        ]

    def to_dict(self) -> dict[str, Any]:
        def money(amounts: dict[str, Decimal]) -> dict[str, str]:
            return {c: f"{a:.2f}" for c, a in sorted(amounts.items())}

        return {
            "yearly_saving": money(self.total),
            "count": self.count,
            "users": self.users,
            "by_action": [
                {"action": a, "yearly_saving": money(m), "count": n} for a, m, n in self.actions()
            ],
            "by_product": [
                {"product": p, "yearly_saving": money(m), "count": n} for p, m, n in self.products()
            ],
            "unpriced": sorted(self.unpriced),
            "usage": [u.to_dict() for u in self.usage],
            "recommendations": [r.to_dict() for r in self.items],
            "next_cursor": self.next_cursor,
        }


def _summed(snapshot: Snapshot, filters: Filters) -> tuple[Savings, list[store.Group]]:
    groups = snapshot.groups()
    kept = store.matching(groups, filters.action, filters.confidence, filters.product)
    result = Savings(usage=snapshot.usage())
    for group in kept:
        result.add_group(group)
    result.all_products = sorted({g.product for g in groups}, key=str.lower)
    if filters.active:
        condition = filters.condition(snapshot, kept)
        result.users = store.distinct_users(snapshot.session, condition) if kept else 0
    else:
        result.users = sum(snapshot.stored[t.id].users for t in snapshot.tenants)
    return result, kept


def tenant_savings(
    engine: Engine,
    tenants: Iterable[str],
    filters: Filters | None = None,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Savings:
    """The savings of the named tenants (the caller's scope is the caller's business): the sums,
    and the first `limit` recommendations after `cursor` (None: every one), most money first.
    ValueError for a cursor this never returned, StaleCursor for one of an older build."""
    filters = filters or Filters()

    def read(snapshot: Snapshot) -> Savings:
        result, kept = _summed(snapshot, filters)
        condition = filters.condition(snapshot, kept)
        if limit is None:
            result.items = list(snapshot.stream(condition))
        elif limit > 0:
            result.items, result.next_cursor = snapshot.page(condition, cursor, limit)
        return result

    names = list(tenants)
    return read_fresh(engine, names, read, now=now) if names else Savings()


def savings_rows(
    engine: Engine, tenants: Iterable[str], filters: Filters, *, now: datetime | None = None
) -> Iterator[Recommendation]:
    """Every recommendation the filters keep, streamed in the page's order (for the exports)."""

    def rows(snapshot: Snapshot) -> Iterator[Recommendation]:
        kept = store.matching(
            snapshot.groups(), filters.action, filters.confidence, filters.product
        )
        return snapshot.stream(filters.condition(snapshot, kept))

    names = list(tenants)
    return stream_fresh(engine, names, rows, now=now) if names else iter(())
