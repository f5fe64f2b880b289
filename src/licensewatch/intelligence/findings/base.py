"""What a finding is (rule, count, affected users or products, money, fix) and its SQL helpers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, true
from sqlalchemy.orm import Session

from licensewatch.domain.assignment_states import ASSIGNED_STATES as ASSIGNED_STATES
from licensewatch.intelligence.catalog import ProductNames
from licensewatch.intelligence.money import Cost
from licensewatch.intelligence.prices import Price, unit_price
from licensewatch.storage.models import Sku, User, UserLicense


class FindingRule(StrEnum):
    """The named rules, in the order they are reported."""

    UNASSIGNED_SEATS = "unassigned_seats"
    OVER_ASSIGNED = "over_assigned"
    LAPSED_PRODUCTS = "lapsed_products"
    DISABLED_HOLDERS = "disabled_holders"
    GUEST_HOLDERS = "guest_holders"
    DIRECT_AND_GROUP = "direct_and_group"
    OVERLAPPING_PRODUCTS = "overlapping_products"
    ASSIGNMENT_ERRORS = "assignment_errors"
    LAPSING_SUBSCRIPTIONS = "lapsing_subscriptions"
    INACTIVE_USERS = "inactive_users"
    NEVER_SIGNED_IN = "never_signed_in"


@dataclass
class Affected:
    """One affected user (by UPN) or product, what is wrong with it and the money involved."""

    key: str  # the userPrincipalName, or the product's SKU id
    name: str  # display name of the user or product
    detail: str
    products: list[str] = field(default_factory=list)
    units: int = 1
    cost: Cost = field(default_factory=Cost)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "detail": self.detail,
            "products": self.products,
            "units": self.units,
            "cost": self.cost.to_dict(),
        }


@dataclass
class Finding:
    """A rule's result for one tenant; `unavailable` says why it could not be computed."""

    rule: FindingRule
    title: str
    tenant: str
    subject: str  # "users" or "products": what `affected` lists
    fix: str
    affected: list[Affected] = field(default_factory=list)
    count: int = 0
    cost: Cost | None = None  # None: the rule costs no extra money (hygiene)
    unavailable: str | None = None
    # Paging of a stored finding (read_models): `affected` is then one page, this the next one's
    # cursor (None: the last page); a finding computed from scratch lists every row.
    next_cursor: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.value,
            "title": self.title,
            "tenant": self.tenant,
            "count": self.count,
            "subject": self.subject,
            "monthly_cost": self.cost.to_dict() if self.cost is not None else None,
            "fix": self.fix,
            "unavailable": self.unavailable,
            "affected": [a.to_dict() for a in self.affected],
            "next_cursor": self.next_cursor,
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        """One row per affected user or product (CSV export)."""
        return list(csv_rows_of(self, self.affected))


def csv_rows_of(finding: Finding, affected: Iterable[Affected]) -> Iterator[dict[str, Any]]:
    """A finding's CSV rows over any iterable of its affected rows (a stored finding streams)."""
    base = {"tenant": finding.tenant, "rule": finding.rule.value, "title": finding.title}
    if finding.unavailable:
        yield {**base, "detail": f"unavailable: {finding.unavailable}"}
        return
    for a in affected:
        yield {
            **base,
            "user_principal_name": a.key if finding.subject == "users" else "",
            "product": ", ".join(a.products) if finding.subject == "users" else a.name,
            "units": a.units,
            "detail": a.detail,
            "monthly_cost": a.cost.text() if finding.cost is not None else "",
        }


CSV_COLUMNS = (
    "tenant",
    "rule",
    "title",
    "user_principal_name",
    "product",
    "units",
    "detail",
    "monthly_cost",
)


@dataclass
class Context:
    """Everything a rule needs: the session, the tenant's current dataset, names and prices."""

    session: Session
    tenant_pk: int
    tenant: str
    dataset_id: int | None
    sign_in_data: bool | None
    names: ProductNames
    prices: dict[str, Price]
    excluded: set[str]
    now: datetime
    inactive_days: int
    lapse_days: int
    # Only the users with these userPrincipalNames (an incremental update of the stored rows
    # after a delta; None: every user). A user rule lists them completely: its rows are per UPN.
    only: frozenset[str | None] | None = None

    def chosen(self) -> ColumnElement[bool]:
        """The filter on users a user rule applies: everyone, or the users in `only`."""
        if self.only is None:
            return true()
        names = sorted(name for name in self.only if name)
        chosen: ColumnElement[bool] = User.user_principal_name.in_(names)
        if None in self.only or "" in self.only:  # both are stored under the key ""
            chosen = or_(chosen, User.user_principal_name.is_(None), User.user_principal_name == "")
        return chosen

    def name(self, sku_id: str, part: str | None) -> str:
        return self.names.display_name(sku_id, part or sku_id)

    def price(self, sku_id: str, part: str | None = None) -> tuple[Decimal | None, str | None]:
        return unit_price(self.prices, sku_id, part)

    def cost(self, items: Iterable[tuple[str, str | None, int]]) -> Cost:
        """The monthly cost of (sku_id, part, units) items."""
        cost = Cost()
        for sku_id, part, units in items:
            cost.add(*self.price(sku_id, part), units, self.name(sku_id, part))
        return cost

    def users(self) -> Select[tuple[str | None, str | None, str, str | None]]:
        """UPN, display name, SKU and part of every current user's held licences.

        A plain join on the (dataset_id, user_id) index, driven by the caller's filter on users:
        no DISTINCT over every licence of the tenant (a user's direct and group rows of one SKU
        both come back; user_finding names each product once).
        """
        statement = (
            select(User.user_principal_name, User.display_name, UserLicense.sku_id)
            .add_columns(Sku.sku_part_number)
            .join(
                UserLicense,
                and_(UserLicense.dataset_id == User.dataset_id, UserLicense.user_id == User.id),
            )
            .outerjoin(Sku, and_(Sku.tenant_id == self.tenant_pk, Sku.sku_id == UserLicense.sku_id))
            .where(User.dataset_id == self.dataset_id, UserLicense.state.in_(ASSIGNED_STATES))
            .order_by(User.user_principal_name, UserLicense.sku_id)
        )
        if self.only is not None:
            statement = statement.where(self.chosen())
        if self.excluded:
            statement = statement.where(UserLicense.sku_id.not_in(self.excluded))
        return statement


def user_finding(
    context: Context,
    finding: Finding,
    rows: Iterable[tuple[Any, ...]],
    *,
    costed: bool = True,
) -> Finding:
    """Fill a user finding from (upn, display name, sku_id, part[, detail]) rows in UPN order."""
    by_user: dict[str, Affected] = {}
    # A few products, up to a million rows: each product's name and price are looked up once.
    products: dict[tuple[str, str | None], tuple[str, tuple[Decimal | None, str | None]]] = {}
    for row in rows:
        upn, display, sku_id, part = row[0] or "", row[1] or "", row[2], row[3]
        known = products.get((sku_id, part))
        if known is None:
            known = products[sku_id, part] = (
                context.name(sku_id, part),
                context.price(sku_id, part),
            )
        name, (monthly, currency) = known
        affected = by_user.get(upn)
        if affected is None:
            affected = by_user[upn] = Affected(upn, display, "")
        if name not in affected.products:
            affected.products.append(name)
            if costed:
                affected.cost.add(monthly, currency, 1, name)
        if len(row) > 4 and row[4]:
            affected.detail = "; ".join(filter(None, (affected.detail, str(row[4]))))
    for affected in by_user.values():
        affected.detail = affected.detail or ", ".join(affected.products)
    finding.affected = list(by_user.values())
    finding.count = len(finding.affected)
    if costed:
        total = Cost()
        for affected in finding.affected:
            total.merge(affected.cost)
        finding.cost = total
    return finding
