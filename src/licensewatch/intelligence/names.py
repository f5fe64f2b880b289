"""Friendly product names as read (plain SQL): overrides, Microsoft's CSV, built-in names."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from licensewatch.domain.balance import BalanceRow
from licensewatch.intelligence.builtin_names import builtin_name
from licensewatch.storage.plain_sql import Bind, rows

OVERRIDES_SQL = "SELECT sku_id, name FROM product_name_overrides"
IMPORTED_SQL = "SELECT sku_id, name FROM catalog_products"
PLANS_SQL = "SELECT plan_id, friendly_name FROM catalog_service_plans"


@dataclass(frozen=True)
class ProductNames:
    """Every name source loaded once; `display_name` picks override → CSV → built-in → part."""

    overrides: dict[str, str]
    imported: dict[str, str]
    plans: dict[str, str]

    def catalog_name(self, sku_id: str, part_number: str) -> str | None:
        """The friendly name when one is known, else None."""
        key = sku_id.lower()
        return self.overrides.get(key) or self.imported.get(key) or builtin_name(part_number)

    def display_name(self, sku_id: str, part_number: str) -> str:
        """The friendly name, or the part number when none is known."""
        return self.catalog_name(sku_id, part_number) or part_number

    def plan_name(self, plan_id: str, plan_name: str | None) -> str:
        """A service plan's friendly name, or its technical name."""
        return self.plans.get(plan_id.lower()) or plan_name or plan_id


def _pairs(bind: Bind, sql: str) -> dict[str, str]:
    return {key: value for key, value in rows(bind, sql)}


def product_names(bind: Bind) -> ProductNames:
    """Load the name sources (a few hundred rows) for many lookups."""
    return ProductNames(
        _pairs(bind, OVERRIDES_SQL), _pairs(bind, IMPORTED_SQL), _pairs(bind, PLANS_SQL)
    )


def with_names(bind: Bind, balance: Iterable[BalanceRow]) -> list[BalanceRow]:
    """Balance rows with `catalog_name` filled in, so `row.name` is the friendly name."""
    names = product_names(bind)
    return [
        dataclasses.replace(row, catalog_name=names.catalog_name(row.sku_id, row.sku_part_number))
        for row in balance
    ]
