"""The licence balance of one SKU in one tenant, its totals and its one export schema."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from licensewatch.domain.sections import Section, section
from licensewatch.domain.units import SubscriptionTotal, measure, renewal

ALL_TENANTS = "All tenants"
EXPIRING_WITHIN = timedelta(days=30)  # a trial ending this soon is flagged "expiring"
LOW_UNITS = 5  # a paid product is "low" below 5 spare units or 5 % of its usable units
LOW_SHARE = 0.05


def display_name(sku_part_number: str, catalog_name: str | None = None) -> str:
    """A SKU's friendly name: the catalogue's product name when known, else the part number."""
    return catalog_name or sku_part_number


def utilisation_ratio(usable: int, consumed: int) -> float | None:
    """Consumed share of the usable units; None when there are no usable units."""
    return consumed / usable if usable else None


@dataclass(frozen=True, slots=True)
class BalanceRow:
    """One SKU's balance in one tenant: Graph's units as served, then what they mean."""

    tenant: str
    sku_id: str
    sku_part_number: str
    section: Section
    capability_status: str | None
    # subscribedSku.prepaidUnits and consumedUnits, as Microsoft serves them
    enabled: int
    warning: int
    suspended: int
    locked_out: int
    consumed: int
    # derived (domain/units.py)
    purchased: int
    grace: int
    trial: int
    available: int
    unassigned: int
    lapsed_holders: int
    over_assigned_units: int
    assigned_directly: int
    assigned_via_groups: int
    assignment_errors: int
    next_renewal: datetime | None
    renewal_in_grace: bool
    trial_ends: datetime | None
    lapsed_until: datetime | None
    expiring: bool
    catalog_name: str | None = None  # from Microsoft's product-name CSV, once imported

    @property
    def name(self) -> str:
        return display_name(self.sku_part_number, self.catalog_name)

    @property
    def paid(self) -> bool:
        return self.section == Section.PAID

    @property
    def utilisation(self) -> float | None:
        return utilisation_ratio(self.purchased + self.trial, self.consumed)

    @property
    def over_assigned(self) -> bool:
        return self.over_assigned_units > 0

    @property
    def lapsed(self) -> bool:
        return self.lapsed_holders > 0

    @property
    def has_trial(self) -> bool:
        return self.trial > 0

    @property
    def low(self) -> bool:
        usable = self.purchased + self.trial
        spare = self.available
        return (
            self.paid
            and usable > 0
            and spare >= 0
            and (spare < LOW_UNITS or spare < usable * LOW_SHARE)
        )

    def to_dict(self) -> dict[str, Any]:
        """The row in the one balance schema (CLI JSON, REST API); `BALANCE_COLUMNS` in order."""
        values = {column: getattr(self, column) for column in BALANCE_COLUMNS}
        for key in ("next_renewal", "trial_ends", "lapsed_until"):
            when = values[key]
            values[key] = when.isoformat(timespec="seconds") if when else None
        values["section"] = str(self.section)
        return values

    def csv_cells(self) -> list[str | int | float | bool | None]:
        """The row for CSV and spreadsheets: the same columns, booleans as true/false."""
        return [
            ("true" if value else "false") if isinstance(value, bool) else value
            for value in self.to_dict().values()
        ]


# The one balance schema: column names of CSV, JSON and the API, in this order.
BALANCE_COLUMNS: tuple[str, ...] = (
    "tenant",
    "name",
    "sku_id",
    "sku_part_number",
    "section",
    "capability_status",
    "enabled",
    "warning",
    "suspended",
    "locked_out",
    "consumed",
    "purchased",
    "grace",
    "trial",
    "available",
    "unassigned",
    "utilisation",
    "lapsed_holders",
    "over_assigned_units",
    "assigned_directly",
    "assigned_via_groups",
    "assignment_errors",
    "next_renewal",
    "renewal_in_grace",
    "trial_ends",
    "lapsed_until",
    "over_assigned",
    "lapsed",
    "low",
    "expiring",
)


def build_row(
    *,
    tenant: str,
    sku_id: str,
    sku_part_number: str,
    applies_to: str | None,
    capability_status: str | None,
    enabled: int,
    warning: int,
    suspended: int,
    locked_out: int,
    consumed: int,
    assigned_directly: int = 0,
    assigned_via_groups: int = 0,
    assignment_errors: int = 0,
    subscriptions: Sequence[SubscriptionTotal] = (),
    now: datetime,
    catalog_name: str | None = None,
) -> BalanceRow:
    """A SKU's balance row: every number defined once, in domain/units.py."""
    kind = section(sku_part_number, applies_to)
    units = measure(
        enabled=enabled,
        warning=warning,
        suspended=suspended,
        locked_out=locked_out,
        consumed=consumed,
        capability_status=capability_status,
        subscriptions=subscriptions,
    )
    when = renewal(subscriptions)
    paid = kind == Section.PAID
    trial_soon = when.trial_ends is not None and when.trial_ends - now <= EXPIRING_WITHIN
    return BalanceRow(
        tenant=tenant,
        sku_id=sku_id,
        sku_part_number=sku_part_number,
        section=kind,
        capability_status=capability_status,
        enabled=enabled,
        warning=warning,
        suspended=suspended,
        locked_out=locked_out,
        consumed=consumed,
        purchased=units.purchased,
        grace=units.grace,
        trial=units.trial,
        available=units.available,
        # Free and tenant-wide units are never seats to sell back or to buy.
        unassigned=units.unassigned if paid else 0,
        lapsed_holders=units.lapsed_holders if paid else 0,
        over_assigned_units=units.over_assigned if paid else 0,
        assigned_directly=assigned_directly,
        assigned_via_groups=assigned_via_groups,
        assignment_errors=assignment_errors,
        next_renewal=when.next_renewal,
        renewal_in_grace=when.in_grace,
        trial_ends=when.trial_ends,
        lapsed_until=when.lapsed_until,
        expiring=paid and (units.grace > 0 or units.lapsed > 0 or trial_soon),
        catalog_name=catalog_name,
    )


_SUMMED = tuple(f.name for f in fields(BalanceRow) if f.type in ("int", int) and f.name != "tenant")


def combine(parts: Sequence[BalanceRow]) -> BalanceRow:
    """One product's rows of several tenants as one row.

    Seats never move between tenants, so the derived numbers are the sums of each tenant's (an
    over-assigned tenant is not offset by another tenant's spare seats).
    """
    first = parts[0]
    sums = {name: sum(getattr(p, name) for p in parts) for name in _SUMMED}
    dated = [p for p in parts if p.next_renewal is not None]
    soonest = min(dated, key=lambda p: (p.next_renewal, not p.renewal_in_grace)) if dated else None
    trials = [p.trial_ends for p in parts if p.trial_ends is not None]
    lapsing = [p.lapsed_until for p in parts if p.lapsed_until is not None]
    statuses = {p.capability_status for p in parts}
    return replace(
        first,
        tenant=ALL_TENANTS,
        capability_status=first.capability_status if len(statuses) == 1 else None,
        next_renewal=soonest.next_renewal if soonest else None,
        renewal_in_grace=bool(soonest and soonest.renewal_in_grace),
        trial_ends=min(trials) if trials else None,
        lapsed_until=min(lapsing) if lapsing else None,
        expiring=any(p.expiring for p in parts),
        **sums,
    )


def combined_rows(rows: Iterable[BalanceRow]) -> list[BalanceRow]:
    """The balance across tenants: one row per product (skuIds are the same in every tenant)."""
    groups: dict[str, list[BalanceRow]] = {}
    for row in rows:
        groups.setdefault(row.sku_id, []).append(row)
    return sorted((combine(parts) for parts in groups.values()), key=lambda r: r.name.lower())


@dataclass(frozen=True, slots=True)
class BalanceTotals:
    """Sums over the paid products only; available == purchased + trial - consumed."""

    products: int
    purchased: int
    grace: int
    trial: int
    consumed: int
    available: int
    unassigned: int
    over_assigned: int  # products
    over_assigned_units: int
    lapsed: int  # products
    lapsed_holders: int
    low: int
    expiring: int
    free_products: int  # shown apart, never summed
    company_products: int

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def totals(rows: Iterable[BalanceRow]) -> BalanceTotals:
    """The footer and the summary cards: paid products only (free and tenant-wide ones apart)."""
    rows = list(rows)
    paid = [r for r in rows if r.paid]
    return BalanceTotals(
        products=len(paid),
        purchased=sum(r.purchased for r in paid),
        grace=sum(r.grace for r in paid),
        trial=sum(r.trial for r in paid),
        consumed=sum(r.consumed for r in paid),
        available=sum(r.available for r in paid),
        unassigned=sum(r.unassigned for r in paid),
        over_assigned=sum(r.over_assigned for r in paid),
        over_assigned_units=sum(r.over_assigned_units for r in paid),
        lapsed=sum(r.lapsed for r in paid),
        lapsed_holders=sum(r.lapsed_holders for r in paid),
        low=sum(r.low for r in paid),
        expiring=sum(r.expiring for r in paid),
        free_products=sum(r.section == Section.FREE for r in rows),
        company_products=sum(r.section == Section.COMPANY for r in rows),
    )
