"""Products excluded from findings and alerts (everywhere) or from alerts only."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.catalog import resolve_product
from licensewatch.services.audit import append
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.intelligence import ExclusionScope, ProductExclusion


def exclude(engine: Engine, key: str, scope: str | ExclusionScope) -> tuple[str, str | None]:
    """Exclude a product (SKU id or part number) everywhere or from alerts only."""
    value = ExclusionScope(str(scope))
    with session_scope(engine) as session:
        sku_id, part = resolve_product(session, key)
        row = session.get(ProductExclusion, sku_id)
        if row is None:
            session.add(ProductExclusion(sku_id=sku_id, part_number=part, scope=value.value))
        else:
            row.scope = value.value
        append(session, "exclusion.set", {"sku_id": sku_id, "product": part, "scope": value.value})
        return sku_id, part


def include(engine: Engine, key: str) -> bool:
    """Remove a product's exclusion; True when there was one."""
    with session_scope(engine) as session:
        sku_id, _ = resolve_product(session, key)
        row = session.get(ProductExclusion, sku_id)
        if row is not None:
            session.delete(row)
            append(session, "exclusion.removed", {"sku_id": sku_id, "product": row.part_number})
        return row is not None


def exclusions(session: Session) -> dict[str, ExclusionScope]:
    """Every excluded SKU id with its scope."""
    rows = session.execute(select(ProductExclusion.sku_id, ProductExclusion.scope))
    return {sku_id: ExclusionScope(scope) for sku_id, scope in rows}


def excluded_ids(session: Session, *, for_alerts: bool) -> set[str]:
    """SKU ids to ignore: findings ignore `everywhere`, alerts ignore both scopes."""
    return {
        sku_id
        for sku_id, scope in exclusions(session).items()
        if for_alerts or scope == ExclusionScope.EVERYWHERE
    }
