"""Microsoft's product names and service plan identifiers CSV, parsed all-or-nothing."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from licensewatch.domain.text import clean_text

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Normalised header (lower case, no spaces or underscores) → our field.
# Older copies spell "String_ Id".
_COLUMNS = {
    "productdisplayname": "product_name",
    "stringid": "part_number",
    "guid": "sku_id",
    "serviceplanname": "plan_name",
    "serviceplanid": "plan_id",
    "serviceplansincludedfriendlynames": "plan_friendly_name",
}
_REQUIRED = ("product_name", "part_number", "sku_id")
_MAX_REPORTED_PROBLEMS = 10


class CatalogError(ValueError):
    """The file is not a usable product-name CSV; nothing of it was imported."""


@dataclass(frozen=True)
class CatalogPlan:
    plan_id: str
    name: str
    friendly_name: str


@dataclass
class CatalogProduct:
    sku_id: str
    part_number: str
    name: str
    plans: dict[str, CatalogPlan] = field(default_factory=dict)


@dataclass
class Catalog:
    products: dict[str, CatalogProduct]
    warnings: list[str]

    @property
    def plan_count(self) -> int:
        return len({p for product in self.products.values() for p in product.plans})


def _header_map(header: list[str]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for index, raw in enumerate(header):
        key = re.sub(r"[\s_]+", "", raw.strip().lstrip("\ufeff")).lower()
        if key in _COLUMNS:
            mapping[_COLUMNS[key]] = index
    missing = [name for name in _REQUIRED if name not in mapping]
    if missing:
        raise CatalogError(
            "missing column(s) "
            + ", ".join(missing)
            + ": is this Microsoft's 'Product names and service plan identifiers for licensing'"
            + " CSV?"
            + " Expected Product_Display_Name, String_Id, GUID, Service_Plan_Name, Service_Plan_Id,"
            + " Service_Plans_Included_Friendly_Names."
        )
    return mapping


def parse_catalog(data: bytes) -> Catalog:
    """Parse the CSV bytes, or raise CatalogError naming the first problems with their lines."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"the file is not UTF-8 text (byte {exc.start}): download the CSV again"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise CatalogError("the file is empty") from None
    except csv.Error as exc:
        raise CatalogError(f"line 1: {exc}") from None
    columns = _header_map(header)
    products: dict[str, CatalogProduct] = {}
    problems: list[str] = []
    warnings: list[str] = []

    def cell(row: list[str], name: str) -> str:
        index = columns.get(name)
        # Downloaded text: no NUL (PostgreSQL refuses it), control or bidi character is kept.
        return clean_text(row[index]).strip() if index is not None and index < len(row) else ""

    try:
        for row in reader:
            line = reader.line_num
            if not any(value.strip() for value in row):
                continue
            if len(row) < len(header):
                problems.append(f"line {line}: {len(row)} fields, expected {len(header)}")
                continue
            sku_id, part, name = (
                cell(row, "sku_id").lower(),
                cell(row, "part_number"),
                cell(row, "product_name"),
            )
            if not _GUID.match(sku_id):
                problems.append(f"line {line}: GUID {sku_id!r} is not a GUID")
                continue
            if not part:
                problems.append(f"line {line}: String_Id is empty")
                continue
            product = products.get(sku_id)
            if product is None:
                product = products[sku_id] = CatalogProduct(sku_id, part, name or part)
            elif product.part_number != part:
                warnings.append(
                    f"line {line}: GUID {sku_id} also named {part!r}; kept {product.part_number!r}"
                )
            plan_id = cell(row, "plan_id").lower()
            if plan_id:
                if not _GUID.match(plan_id):
                    problems.append(f"line {line}: Service_Plan_Id {plan_id!r} is not a GUID")
                    continue
                plan_name = cell(row, "plan_name")
                product.plans[plan_id] = CatalogPlan(
                    plan_id, plan_name, cell(row, "plan_friendly_name") or plan_name
                )
            if len(problems) >= _MAX_REPORTED_PROBLEMS:
                break
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: {exc}")
    if problems:
        raise CatalogError("nothing was imported:\n" + "\n".join(problems[:_MAX_REPORTED_PROBLEMS]))
    if not products:
        raise CatalogError("the file has a header but no products")
    return Catalog(products, warnings)
