"""A product by its friendly name (an admin's, Microsoft's or the built-in one), ambiguity named."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.builtin_names import BUILTIN_NAMES
from licensewatch.storage.models import Sku
from licensewatch.storage.models.intelligence import CatalogProduct, ProductNameOverride


class AmbiguousName(LookupError):
    """A friendly name that several products carry; the message names them."""


def by_name(session: Session, name: str) -> tuple[str, str | None] | None:
    """(sku_id, part number) of the one product with this name (any case), or None.

    Products seen in a tenant win over products only in the catalogue; two products seen in
    tenants (or, when none is, two in the catalogue) with the name raise AmbiguousName.
    """
    wanted = name.strip().lower()
    found: dict[str, str | None] = {}
    for sku_id, part in session.execute(
        select(ProductNameOverride.sku_id, ProductNameOverride.part_number).where(
            func.lower(ProductNameOverride.name) == wanted
        )
    ):
        found[sku_id] = part
    for sku_id, part in session.execute(
        select(CatalogProduct.sku_id, CatalogProduct.part_number).where(
            func.lower(CatalogProduct.name) == wanted
        )
    ):
        found.setdefault(sku_id, part)
    parts = [part for part, label in BUILTIN_NAMES.items() if label.lower() == wanted]
    if parts:
        for sku_id, part in session.execute(
            select(Sku.sku_id, Sku.sku_part_number).where(Sku.sku_part_number.in_(parts))
        ):
            found.setdefault(sku_id, part)
    if not found:
        return None
    seen = set(session.scalars(select(Sku.sku_id).where(Sku.sku_id.in_(list(found)))))
    candidates = sorted(seen or found, key=lambda s: (found[s] or "", s))
    if len(candidates) > 1:
        listed = ", ".join(f"{found[s] or '?'} ({s})" for s in candidates)
        raise AmbiguousName(f"{name.strip()!r} names several products: {listed}; use one of these")
    return candidates[0], found[candidates[0]]
