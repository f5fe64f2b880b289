"""What a recommendation is: one action on one user's licence, its evidence and the money saved."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    """What to do with the licence (the CLI's and the API's `action`)."""

    REMOVE = "remove"
    DOWNGRADE = "downgrade"
    REMOVE_DUPLICATE = "remove_duplicate"
    REMOVE_ADDON = "remove_addon"


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


CONFIDENCE_ORDER = {Confidence.HIGH: 0, Confidence.MEDIUM: 1, Confidence.LOW: 2}

CSV_COLUMNS = (
    "tenant",
    "user_principal_name",
    "display_name",
    "action",
    "sku_part_number",
    "product_name",
    "target_sku_part_number",
    "target_product_name",
    "confidence",
    "monthly_saving",
    "yearly_saving",
    "currency",
    "reason",
    "evidence",
)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


@dataclass(frozen=True)
class Recommendation:
    """One action on one user's licence; savings are None when a price is missing."""

    tenant: str
    user_principal_name: str
    display_name: str
    action: str  # an Action value
    sku_id: str
    sku_part_number: str
    product_name: str
    target_sku_id: str | None
    target_sku_part_number: str | None
    target_product_name: str | None
    reason: str
    evidence: dict[str, str]
    confidence: str  # a Confidence value
    monthly_saving: Decimal | None
    yearly_saving: Decimal | None
    currency: str | None

    def to_dict(self) -> dict[str, Any]:
        """The CLI's and the API's JSON object (money as decimal strings, never floats)."""
        return {
            "tenant": self.tenant,
            "user_principal_name": self.user_principal_name,
            "display_name": self.display_name,
            "action": self.action,
            "sku_id": self.sku_id,
            "sku_part_number": self.sku_part_number,
            "product_name": self.product_name,
            "target_sku_id": self.target_sku_id,
            "target_sku_part_number": self.target_sku_part_number,
            "target_product_name": self.target_product_name,
            "reason": self.reason,
            "evidence": dict(self.evidence),
            "confidence": self.confidence,
            "monthly_saving": _money(self.monthly_saving),
            "yearly_saving": _money(self.yearly_saving),
            "currency": self.currency,
        }

    def csv_row(self) -> dict[str, Any]:
        """One CSV row (CSV_COLUMNS); evidence as `key: value; ...`."""
        row = self.to_dict()
        row["evidence"] = "; ".join(f"{k}: {v}" for k, v in self.evidence.items())
        row["target_sku_part_number"] = row["target_sku_part_number"] or ""
        row["target_product_name"] = row["target_product_name"] or ""
        for key in ("monthly_saving", "yearly_saving", "currency"):
            row[key] = row[key] or ""
        return {key: row[key] for key in CSV_COLUMNS}
