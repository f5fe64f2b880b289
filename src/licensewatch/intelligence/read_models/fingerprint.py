"""What a read model was computed from: every input hashed, so a reader can tell it is stale.

The inputs that change without a sync (prices, exclusions, settings, product names) are read
as they are stored, never through a cache; the dataset is named by the tenant row a publish
updates (its dataset id and `updated_at`, which every full and delta publish sets). Rules that
depend on the time are computed as of the start of the UTC day (`as_of`), and that day is part
of their fingerprint: the first reader of a new day recomputes them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.findings.base import FindingRule
from licensewatch.intelligence.settings import read_settings
from licensewatch.storage.models import Tenant
from licensewatch.storage.models.intelligence import (
    CatalogProduct,
    ExclusionScope,
    ProductExclusion,
    ProductNameOverride,
    ProductPrice,
)

# Bumped when a rule's code changes what it stores: every stored read model is then stale.
VERSION = 2  # 2: the costs store their holder counts (cost_holders)
# Rules whose result depends on the day (inactive: the cutoff; lapsing: the horizon).
DATED = {
    FindingRule.INACTIVE_USERS: "inactive_days",
    FindingRule.LAPSING_SUBSCRIPTIONS: "lapse_days",
}
# Rules that show no money: a price change leaves them as they are.
UNCOSTED = {FindingRule.DIRECT_AND_GROUP, FindingRule.ASSIGNMENT_ERRORS}


def as_of(now: datetime) -> datetime:
    """The time the dated rules are computed for: the start of `now`'s UTC day."""
    day = now.astimezone(UTC)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class Inputs:
    """Everything a tenant's findings and costs depend on, as stored now."""

    data: tuple[Any, ...]  # the tenant's published dataset
    names: tuple[Any, ...]
    prices: tuple[Any, ...]
    excluded: tuple[str, ...]
    settings: dict[str, str]
    day: str

    def finding(self, rule: FindingRule) -> str:
        """The fingerprint of one rule's inputs."""
        prices = () if rule in UNCOSTED else self.prices
        parts: list[Any] = [VERSION, rule.value, self.data, self.names, prices, self.excluded]
        setting = DATED.get(rule)
        if setting is not None:
            parts += [self.settings[setting], self.day]
        return _digest(parts)

    def costs(self) -> str:
        """The fingerprint of the costs' inputs (no exclusions, no date)."""
        parts = [VERSION, "costs", self.data, self.names, self.prices]
        return _digest([*parts, self.settings["cost_attribute"]])


def _digest(parts: list[Any]) -> str:
    text = json.dumps(parts, separators=(",", ":"), default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def load_inputs(session: Session, tenant: Tenant, now: datetime) -> Inputs:
    """The inputs as stored now: a few small tables, one aggregate for the imported names."""
    data = (tenant.id, tenant.name, tenant.dataset_id, tenant.sign_in_data, tenant.updated_at)
    overrides = session.execute(
        select(ProductNameOverride.sku_id, ProductNameOverride.name).order_by(
            ProductNameOverride.sku_id
        )
    ).all()
    # An import replaces every row with one timestamp: count and newest time name it.
    imported = session.execute(select(func.count(), func.max(CatalogProduct.imported_at))).one()
    prices = session.execute(
        select(
            ProductPrice.sku_id,
            ProductPrice.part_number,
            ProductPrice.amount,
            ProductPrice.currency,
            ProductPrice.term,
        ).order_by(ProductPrice.sku_id)
    ).all()
    excluded = session.scalars(
        select(ProductExclusion.sku_id)
        .where(ProductExclusion.scope == ExclusionScope.EVERYWHERE.value)
        .order_by(ProductExclusion.sku_id)
    ).all()
    return Inputs(
        data=data,
        names=(tuple(map(tuple, overrides)), tuple(imported)),
        prices=tuple(map(tuple, prices)),
        excluded=tuple(excluded),
        settings=read_settings(session),
        day=as_of(now).date().isoformat(),
    )
