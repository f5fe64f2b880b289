"""Licence balance arithmetic per tenant and SKU: pure values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


def display_name(sku_part_number: str, catalog_name: str | None = None) -> str:
    """A SKU's friendly name: the catalogue's product name when known, else the part number."""
    return catalog_name or sku_part_number


def available_units(enabled: int, warning: int, consumed: int) -> int:
    """Units still assignable: enabled plus grace-period units minus consumed (negative = over)."""
    return enabled + warning - consumed


def utilisation_ratio(enabled: int, warning: int, consumed: int) -> float | None:
    """Consumed share of assignable units; None when there are no assignable units."""
    capacity = enabled + warning
    return consumed / capacity if capacity else None


@dataclass(frozen=True, slots=True)
class BalanceRow:
    """One SKU's licence balance in one tenant."""

    tenant: str
    sku_id: str
    sku_part_number: str
    enabled: int
    warning: int
    suspended: int
    locked_out: int
    consumed: int
    assigned_directly: int
    assigned_via_groups: int
    next_renewal: datetime | None
    is_trial: bool
    catalog_name: str | None = None  # from Microsoft's product-name CSV, once imported

    @property
    def name(self) -> str:
        return display_name(self.sku_part_number, self.catalog_name)

    @property
    def available(self) -> int:
        return available_units(self.enabled, self.warning, self.consumed)

    @property
    def utilisation(self) -> float | None:
        return utilisation_ratio(self.enabled, self.warning, self.consumed)

    @property
    def over_assigned(self) -> bool:
        return self.available < 0

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON-ready snake_case keys (the REST API and exports use exactly these)."""
        return {
            "tenant": self.tenant,
            "name": self.name,
            "sku_id": self.sku_id,
            "sku_part_number": self.sku_part_number,
            "enabled": self.enabled,
            "warning": self.warning,
            "suspended": self.suspended,
            "locked_out": self.locked_out,
            "consumed": self.consumed,
            "available": self.available,
            "utilisation": self.utilisation,
            "assigned_directly": self.assigned_directly,
            "assigned_via_groups": self.assigned_via_groups,
            "next_renewal": self.next_renewal.isoformat() if self.next_renewal else None,
            "trial": self.is_trial,
            "over_assigned": self.over_assigned,
        }
