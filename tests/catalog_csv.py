"""Microsoft's product-name CSV for tests: a small copy the project writes, or the full file (CI).

The synthetic copy has the real file's format: a UTF-8 BOM, CRLF line ends, the same header, one
row per (product, service plan), and its quirks (a stray space in String_Id, a quoted name with
a comma, a product listed once per plan, one part number on two GUIDs). Its products are the
emulator's built-in ones (Microsoft's real GUIDs and names) plus a few clearly synthetic extras.
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from licensewatch.emulator.products import PLAN_IDS, builtin_catalog

HEADER = (
    "Product_Display_Name", "String_Id", "GUID", "Service_Plan_Name", "Service_Plan_Id",
    "Service_Plans_Included_Friendly_Names",
)  # fmt: skip
# Where the dev workspace and CI keep Microsoft's full file (a user's clone has none).
MICROSOFT_CSV = (
    Path(__file__).resolve().parents[2] / "shared/data/licensing-service-plan-reference.csv"
)
KINDS = ("synthetic", "microsoft")
_NAMESPACE = uuid.UUID("6a1f0c3e-5b7d-4e2a-9c1b-0d2e3f4a5b6c")
# Extras beyond the built-in catalogue: (display name, part number, plans).
_EXTRAS = (
    ("Synthetic Analytics Add-on", "LW_SYNTHETIC_ANALYTICS",
     ("BI_AZURE_P2", "EXCHANGE_S_FOUNDATION")),
    ("Synthetic Suite, Plan 1", "LW_SYNTHETIC_SUITE", ("TEAMS1", "SHAREPOINTWAC", "FORMS_PLAN_E1")),
    ("Synthetic Calling", "LW_SYNTHETIC_PSTN", ("MCOEV",)),
    ("Synthetic Calling (second SKU)", "LW_SYNTHETIC_PSTN", ("MCOEV", "MCOSTANDARD")),
    ("Synthetic Device Plan", "LW_SYNTHETIC_DEVICE", ("INTUNE_A", "REMOTE_HELP")),
)  # fmt: skip


@dataclass(frozen=True)
class CatalogFile:
    """A product-name CSV and what it holds: distinct SKU GUIDs and distinct service plan ids."""

    kind: str
    data: bytes
    products: int
    plans: int

    def write(self, directory: Path) -> Path:
        path = directory / f"{self.kind}-licensing-service-plan-reference.csv"
        path.write_bytes(self.data)
        return path


def _friendly(plan: str) -> str:
    return plan.replace("_", " ").title()


def synthetic_catalog() -> CatalogFile:
    """The small copy, written in Microsoft's format."""
    rows: list[tuple[str, str, str, str, str, str]] = []
    for part, product in sorted(builtin_catalog().items()):
        for index, plan in enumerate(product.service_plans):
            # Microsoft's file has stray spaces after some part numbers.
            spelled = f"{part} " if part == "ENTERPRISEPACK" and index == 1 else part
            rows.append(
                (product.display_name, spelled, product.sku_id, plan.name, plan.plan_id,
                 _friendly(plan.name))
            )  # fmt: skip
    for display, part, plan_names in _EXTRAS:
        sku_id = str(uuid.uuid5(_NAMESPACE, display))
        for name in plan_names:
            rows.append((display, part, sku_id, name, PLAN_IDS[name], _friendly(name)))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    data = "\ufeff".encode() + buffer.getvalue().encode("utf-8")
    return CatalogFile("synthetic", data, len({r[2] for r in rows}), len({r[4] for r in rows}))


def microsoft_catalog() -> CatalogFile:
    """Microsoft's full file (569 SKUs, 723 plans): skips on a user's clone, fails in CI."""
    if not MICROSOFT_CSV.is_file():
        reason = f"Microsoft's product-name CSV is not at {MICROSOFT_CSV} (CI and dev workspace)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return CatalogFile("microsoft", MICROSOFT_CSV.read_bytes(), 569, 723)


def catalog_file(kind: str) -> CatalogFile:
    """The synthetic copy or Microsoft's file, by kind (see KINDS)."""
    return synthetic_catalog() if kind == "synthetic" else microsoft_catalog()
