"""Friendly product names as read (SQLAlchemy Core): overrides, Microsoft's CSV, built-in names."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Select, select

from licensewatch.domain.balance import BalanceRow
from licensewatch.intelligence.builtin_names import builtin_name
from licensewatch.storage.core_tables import (
    catalog_products,
    catalog_service_plans,
    product_name_overrides,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


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


def _pairs(bind: Connection | Session, statement: Select[str, str]) -> dict[str, str]:
    return {key: value for key, value in bind.execute(statement)}


def product_names(bind: Connection | Session) -> ProductNames:
    """Load the name sources (a few hundred rows) for many lookups."""
    overrides = product_name_overrides.c
    plans = catalog_service_plans.c
    return ProductNames(
        _pairs(bind, select(overrides.sku_id, overrides.name)),
        _pairs(bind, select(catalog_products.c.sku_id, catalog_products.c.name)),
        _pairs(bind, select(plans.plan_id, plans.friendly_name)),
    )


def with_names(bind: Connection | Session, rows: Iterable[BalanceRow]) -> list[BalanceRow]:
    """Balance rows with `catalog_name` filled in, so `row.name` is the friendly name."""
    names = product_names(bind)
    return [
        dataclasses.replace(row, catalog_name=names.catalog_name(row.sku_id, row.sku_part_number))
        for row in rows
    ]
