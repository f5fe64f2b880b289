"""A product found by what an admin types: its SKU id, its part number or its friendly name."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.builtin_names import builtin_name
from licensewatch.storage.models import Sku
from licensewatch.storage.models.intelligence import CatalogProduct, ProductNameOverride

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class UnknownProduct(ValueError):
    """A SKU id, part number or name that no tenant, catalogue or built-in name knows."""


class AmbiguousProduct(UnknownProduct):
    """A friendly name shared by several products: the message names each of them."""


@dataclass(frozen=True, slots=True)
class _Candidate:
    sku_id: str
    part_number: str
    name: str
    seen: bool  # in a tenant's SKUs, so the dashboard shows it


def _candidates(session: Session) -> dict[str, _Candidate]:
    """Every product a name could mean, with the name the pages show (override → CSV → built-in)."""
    overrides = {
        sku_id: name
        for sku_id, name in session.execute(
            select(ProductNameOverride.sku_id, ProductNameOverride.name)
        )
    }
    imported = session.execute(
        select(CatalogProduct.sku_id, CatalogProduct.part_number, CatalogProduct.name)
    ).all()
    csv_names = {sku_id: name for sku_id, _, name in imported}
    found: dict[str, _Candidate] = {}
    for sku_id, part in session.execute(select(Sku.sku_id, Sku.sku_part_number).distinct()):
        name = overrides.get(sku_id) or csv_names.get(sku_id) or builtin_name(part) or part
        found[sku_id] = _Candidate(sku_id, part, name, seen=True)
    for sku_id, part, csv_name in imported:
        if sku_id not in found:
            name = overrides.get(sku_id) or csv_name or builtin_name(part) or part
            found[sku_id] = _Candidate(sku_id, part, name, seen=False)
    return found


def _by_name(session: Session, key: str) -> tuple[str, str | None]:
    wanted = key.casefold()
    matches = [c for c in _candidates(session).values() if c.name.casefold() == wanted]
    # The name on the dashboard means the product in the tenants, not its catalogue namesakes.
    shown = [c for c in matches if c.seen] or matches
    if len(shown) == 1:
        return shown[0].sku_id, shown[0].part_number
    if shown:
        listed = ", ".join(f"{c.part_number} ({c.sku_id})" for c in sorted(shown, key=_order))
        raise AmbiguousProduct(
            f"the name {key!r} belongs to {len(shown)} products: {listed}; use the part number "
            "or the SKU id"
        )
    raise UnknownProduct(
        f"unknown product {key!r}: use its SKU id, part number or name as `licensewatch "
        "catalog list` shows it, sync a tenant that has it, or import Microsoft's catalogue "
        "(`licensewatch catalog import`)"
    )


def _order(candidate: _Candidate) -> str:
    return candidate.part_number


def resolve_product(session: Session, key: str) -> tuple[str, str | None]:
    """(sku_id, part number) of a SKU id, a part number or a friendly name (any case)."""
    key = key.strip()
    if GUID.match(key):
        sku_id = key.lower()
        part = session.scalar(select(Sku.sku_part_number).where(Sku.sku_id == sku_id).limit(1))
        part = part or session.scalar(
            select(CatalogProduct.part_number).where(CatalogProduct.sku_id == sku_id)
        )
        return sku_id, part
    for column, id_column in (
        (Sku.sku_part_number, Sku.sku_id),
        (CatalogProduct.part_number, CatalogProduct.sku_id),
    ):
        found = session.execute(
            select(id_column, column).where(func.lower(column) == key.lower()).limit(1)
        ).first()
        if found is not None:
            return str(found[0]), str(found[1])
    return _by_name(session, key)
