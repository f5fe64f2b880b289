"""Catalogue CSV parsing: the real file from ../shared, header variants and damaged copies."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import in_ci
from licensewatch.domain.catalog import CatalogError, parse_catalog

SHARED_CSV = (
    Path(__file__).resolve().parents[3] / "shared/data/licensing-service-plan-reference.csv"
)
HEADER = (
    "Product_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plan_Id,"
    "Service_Plans_Included_Friendly_Names"
)
E3 = "Office 365 E3,ENTERPRISEPACK,6fd2c87f-b296-42f0-b197-1e91e994b900"


def real_csv() -> bytes:
    if not SHARED_CSV.exists():
        if in_ci():
            pytest.fail(f"{SHARED_CSV} is missing in CI")
        pytest.skip(
            f"Microsoft's product-name CSV is not at {SHARED_CSV} (only in the dev workspace)"
        )
    return SHARED_CSV.read_bytes()


def test_real_microsoft_csv() -> None:
    catalog = parse_catalog(real_csv())
    assert len(catalog.products) == 569
    e3 = catalog.products["6fd2c87f-b296-42f0-b197-1e91e994b900"]
    assert (e3.part_number, e3.name) == ("ENTERPRISEPACK", "Office 365 E3")
    assert catalog.products["05e9a617-0261-4cee-bb44-138d3ef5d965"].part_number == "SPE_E3"
    # Stray spaces in String_Id are stripped.
    assert all(p.part_number == p.part_number.strip() for p in catalog.products.values())
    assert catalog.plan_count == 723


def test_bom_crlf_and_old_header_variant() -> None:
    data = (
        "\ufeffProduct_Display_Name,String_ Id,GUID,Service_Plan_Name,Service_Plan_Id,"
        "Service_Plans_Included_Friendly_Names\r\n"
        f"{E3},EXCHANGE_S_ENTERPRISE,efb87545-963c-4e0d-99df-69c6916d9eb0,Exchange (Plan 2)\r\n"
        f"{E3} ,SHAREPOINTENTERPRISE ,5dbe027f-2339-4123-9542-606e4d348a72,SharePoint (Plan 2)\r\n"
    ).encode()
    catalog = parse_catalog(data)
    e3 = catalog.products["6fd2c87f-b296-42f0-b197-1e91e994b900"]
    assert set(e3.plans) == {
        "efb87545-963c-4e0d-99df-69c6916d9eb0",
        "5dbe027f-2339-4123-9542-606e4d348a72",
    }
    assert e3.plans["5dbe027f-2339-4123-9542-606e4d348a72"].name == "SHAREPOINTENTERPRISE"


def test_duplicate_guid_with_other_name_is_a_warning() -> None:
    data = f"{HEADER}\n{E3},,,\nOther,OTHER,6fd2c87f-b296-42f0-b197-1e91e994b900,,,\n".encode()
    catalog = parse_catalog(data)
    assert catalog.products["6fd2c87f-b296-42f0-b197-1e91e994b900"].part_number == "ENTERPRISEPACK"
    assert "also named 'OTHER'" in catalog.warnings[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"name,price\nx,1\n", "missing column"),
        (f"{HEADER}\n".encode(), "no products"),
        (f"{HEADER}\nE3,ENTERPRISEPACK,not-a-guid,,,\n".encode(), "line 2: GUID 'not-a-guid'"),
        (f"{HEADER}\n{E3},,,\nE5,E5\n".encode(), "line 3: 2 fields"),
        (f"{HEADER}\n{E3},P,zz,x\n".encode(), "Service_Plan_Id 'zz'"),
        ("Product_Display_Name;String_Id\n".encode("utf-16"), "not UTF-8"),
    ],
)
def test_damaged_files_are_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_catalog(data)


def test_truncated_real_file_is_refused() -> None:
    data = real_csv()
    cut = data[: len(data) // 2]
    cut = cut[: cut.rfind(b",")]  # ends mid-row: the last row has too few fields
    with pytest.raises(CatalogError, match="nothing was imported"):
        parse_catalog(cut)
