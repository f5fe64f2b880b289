"""Names from admins and from Microsoft's product CSV are stored as one clean line too."""

from __future__ import annotations

from licensewatch.domain.catalog import parse_catalog
from licensewatch.intelligence.catalog import product_names, set_name
from licensewatch.storage.database import session_scope
from web_fixtures import WebEnv
from web_seed import E3

HEADER = "Product_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plan_Id,"
HEADER += "Service_Plans_Included_Friendly_Names\r\n"


def test_a_product_name_set_by_an_admin_is_one_clean_line(web: WebEnv) -> None:
    set_name(web.engine, E3, "E3\r\nBcc: victim@example.com\u202e\x1b[8m\x00")
    with session_scope(web.engine, write=False) as session:
        name = product_names(session).display_name(E3, "SPE_E3")
    assert name == "E3 Bcc: victim@example.com[8m"


def test_the_product_csv_is_cleaned() -> None:
    row = "Office\x00 E3\u202e,ENTERPRISEPACK,6fd2c87f-b296-42f0-b197-1e91e994b900,"
    row += "EXCHANGE_S_STANDARD,9aaf7827-d63c-4b61-89c3-182f06f82e5c,Exchange\x1b[8m\r\n"
    catalog = parse_catalog((HEADER + row).encode())
    product = catalog.products["6fd2c87f-b296-42f0-b197-1e91e994b900"]
    assert product.name == "Office E3"
    plan = product.plans["9aaf7827-d63c-4b61-89c3-182f06f82e5c"]
    assert plan.friendly_name == "Exchange[8m"
