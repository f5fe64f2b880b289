"""Friendly product and service-plan names: admin overrides, Microsoft's CSV, built-in names."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.orm import Session

from licensewatch.domain.catalog import Catalog, CatalogError, parse_catalog
from licensewatch.domain.text import clean_text
from licensewatch.intelligence.builtin_names import builtin_name
from licensewatch.intelligence.names import ProductNames as ProductNames
from licensewatch.intelligence.names import product_names as product_names
from licensewatch.intelligence.names import with_names as with_names
from licensewatch.intelligence.product_lookup import UnknownProduct as UnknownProduct
from licensewatch.intelligence.product_lookup import resolve_product as resolve_product
from licensewatch.services.audit import append
from licensewatch.storage.database import session_scope, write_transaction
from licensewatch.storage.models import Sku, Tenant, utcnow
from licensewatch.storage.models.intelligence import (
    CatalogProduct,
    CatalogServicePlan,
    ProductNameOverride,
)

MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024
# Microsoft's download link for "Product names and service plan identifiers for licensing".
MICROSOFT_CSV_URL = (
    "https://download.microsoft.com/download/e/3/e/e3e9faf2-f28b-490a-9ada-c6089a1fc5b0/"
    "Product%20names%20and%20service%20plan%20identifiers%20for%20licensing.csv"
)


@dataclass(frozen=True)
class ImportResult:
    products: int
    plans: int
    warnings: list[str]


def display_name(session: Session, sku_id: str, part_number: str) -> str:
    """One product's friendly name (loads the sources: prefer `product_names` for many)."""
    return product_names(session).display_name(sku_id, part_number)


def read_source(source: str) -> bytes:
    """The CSV bytes of a file path or an http(s) URL (proxies from the environment apply)."""
    import httpx  # only a download needs it: `balance` and the pages use this module too

    if not source.lower().startswith(("http://", "https://")):
        try:
            return Path(source).expanduser().read_bytes()
        except OSError as exc:
            raise CatalogError(f"cannot read {source}: {exc.strerror or exc}") from None
    try:
        with httpx.stream("GET", source, follow_redirects=True, timeout=60.0) as response:
            if response.status_code != 200:
                raise CatalogError(f"{source} answered HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise CatalogError(f"{source} is larger than {MAX_DOWNLOAD_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise CatalogError(
            f"cannot download {source}: {exc}; behind a proxy set HTTPS_PROXY, or download the "
            "file and import it from disk"
        ) from None


def import_catalog(engine: Engine, data: bytes) -> ImportResult:
    """Replace the imported names with the CSV's, in one transaction (all or nothing)."""
    catalog: Catalog = parse_catalog(data)
    plans: dict[str, tuple[str, str]] = {}
    for product in catalog.products.values():
        for plan in product.plans.values():
            plans.setdefault(plan.plan_id, (plan.name or plan.plan_id, plan.friendly_name))
    now = utcnow()
    with write_transaction(engine) as db:
        db.execute(delete(CatalogServicePlan))
        db.execute(delete(CatalogProduct))
        db.execute(
            insert(CatalogProduct),
            [
                {
                    "sku_id": p.sku_id,
                    "part_number": p.part_number,
                    "name": p.name,
                    "imported_at": now,
                }
                for p in catalog.products.values()
            ],
        )
        if plans:
            db.execute(
                insert(CatalogServicePlan),
                [
                    {"plan_id": k, "name": name[:200], "friendly_name": (friendly or name)[:400]}
                    for k, (name, friendly) in plans.items()
                ],
            )
        detail = {"products": len(catalog.products), "plans": len(plans)}
        append(db, "catalog.imported", detail)
    return ImportResult(len(catalog.products), len(plans), catalog.warnings)


def set_name(engine: Engine, key: str, name: str) -> tuple[str, str | None]:
    """Store an admin's name for a product (by SKU id or part number); returns the product."""
    name = clean_text(name).strip()  # shown in mail subjects, tables and cells: one clean line
    if not name:
        raise ValueError("the name must not be empty")
    with session_scope(engine) as session:
        sku_id, part = resolve_product(session, key)
        row = session.get(ProductNameOverride, sku_id)
        if row is None:
            session.add(ProductNameOverride(sku_id=sku_id, part_number=part, name=name[:400]))
        else:
            row.name = name[:400]
        append(session, "product_name.set", {"sku_id": sku_id, "product": part, "name": name[:400]})
        return sku_id, part


def clear_name(engine: Engine, key: str) -> bool:
    """Remove an admin's name; True when there was one."""
    with session_scope(engine) as session:
        sku_id, _ = resolve_product(session, key)
        row = session.get(ProductNameOverride, sku_id)
        if row is not None:
            session.delete(row)
            append(session, "product_name.cleared", {"sku_id": sku_id, "product": row.part_number})
        return row is not None


@dataclass(frozen=True)
class SeenProduct:
    """A product seen in tenants, with its name and where that name comes from."""

    sku_id: str
    part_number: str
    name: str
    source: str  # override | microsoft | built-in | none
    tenants: list[str]

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def seen_products(session: Session) -> list[SeenProduct]:
    """Every SKU in any tenant with its name source (one row per product)."""
    names = product_names(session)
    rows = session.execute(
        select(Sku.sku_id, Sku.sku_part_number, Tenant.name)
        .join(Tenant, Tenant.id == Sku.tenant_id)
        .order_by(Sku.sku_part_number, Tenant.name)
    )
    seen: dict[str, SeenProduct] = {}
    for sku_id, part, tenant in rows:
        if sku_id in seen:
            seen[sku_id].tenants.append(tenant)
            continue
        if sku_id in names.overrides:
            source = "override"
        elif sku_id in names.imported:
            source = "microsoft"
        elif builtin_name(part):
            source = "built-in"
        else:
            source = "none"
        seen[sku_id] = SeenProduct(sku_id, part, names.display_name(sku_id, part), source, [tenant])
    return list(seen.values())


def unknown_products(session: Session) -> list[SeenProduct]:
    """SKUs seen in tenants that have no friendly name yet (name them with `set_name`)."""
    return [p for p in seen_products(session) if p.source == "none"]
