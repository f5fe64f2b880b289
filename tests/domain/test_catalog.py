"""Catalogue CSV parsing: a synthetic copy, Microsoft's file (CI), header variants, damage."""

from __future__ import annotations

import pytest

from catalog_csv import KINDS, CatalogFile, catalog_file, synthetic_catalog
from licensewatch.domain.catalog import CatalogError, parse_catalog

HEADER = (
    "Product_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plan_Id,"
    "Service_Plans_Included_Friendly_Names"
)
E3 = "Office 365 E3,ENTERPRISEPACK,6fd2c87f-b296-42f0-b197-1e91e994b900"


@pytest.fixture(params=KINDS)
def catalog(request: pytest.FixtureRequest) -> CatalogFile:
    """The project's synthetic copy (everywhere) and Microsoft's full file (CI)."""
    return catalog_file(request.param)


def test_microsoft_csv_products_and_plans(catalog: CatalogFile) -> None:
    parsed = parse_catalog(catalog.data)
    assert len(parsed.products) == catalog.products
    assert parsed.plan_count == catalog.plans
    e3 = parsed.products["6fd2c87f-b296-42f0-b197-1e91e994b900"]
    assert (e3.part_number, e3.name) == ("ENTERPRISEPACK", "Office 365 E3")
    assert parsed.products["05e9a617-0261-4cee-bb44-138d3ef5d965"].part_number == "SPE_E3"
    # Stray spaces in String_Id are stripped.
    assert all(p.part_number == p.part_number.strip() for p in parsed.products.values())


def test_synthetic_copy_has_microsofts_format() -> None:
    data = synthetic_catalog().data
    assert data.startswith(b"\xef\xbb\xbfProduct_Display_Name,String_Id,GUID,")
    lines = data.split(b"\r\n")
    assert all(b"\n" not in line for line in lines)  # CRLF only
    assert b"ENTERPRISEPACK ," in data  # a stray space, as in Microsoft's file
    assert b'"Synthetic Suite, Plan 1"' in data


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


def test_truncated_file_is_refused(catalog: CatalogFile) -> None:
    data = catalog.data
    cut = data[: len(data) // 2]
    cut = cut[: cut.rfind(b",")]  # ends mid-row: the last row has too few fields
    with pytest.raises(CatalogError, match="nothing was imported"):
        parse_catalog(cut)
