"""Commands and forms that take a product accept its friendly name; an ambiguous one is named."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from catalog_csv import synthetic_catalog
from database_fixtures import add_tenant
from licensewatch.intelligence.catalog import (
    UnknownProduct,
    import_catalog,
    resolve_product,
    set_name,
)
from licensewatch.intelligence.exclusions import exclude
from licensewatch.intelligence.prices import load_prices, set_price
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Sku

E3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
M365_E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
VISIO = "c5928f49-12ba-48f7-ada3-0d743a3601d5"


@pytest.fixture
def tenant(engine: Engine) -> int:
    tenant_pk = add_tenant(engine)
    with session_scope(engine) as session:
        for sku_id, part in ((E3, "ENTERPRISEPACK"), (M365_E3, "SPE_E3")):
            session.add(Sku(tenant_id=tenant_pk, sku_id=sku_id, sku_part_number=part))
    return tenant_pk


def _resolve(engine: Engine, key: str) -> tuple[str, str | None]:
    with session_scope(engine, write=False) as session:
        return resolve_product(session, key)


def test_the_dashboards_name_is_accepted(engine: Engine, tenant: int) -> None:
    # "Office 365 E3" is what the dashboard shows for ENTERPRISEPACK (a built-in name).
    set_price(engine, "Office 365 E3", "23.00", "EUR", "monthly")
    with session_scope(engine, write=False) as session:
        assert set(load_prices(session)) == {E3}
    assert _resolve(engine, "  microsoft 365 e3 ") == (M365_E3, "SPE_E3")
    exclude(engine, "Microsoft 365 E3", "alerts")
    # An admin's own name works as well, and Microsoft's catalogue names products nobody has yet.
    set_name(engine, E3, "O365 E3 (EA)")
    assert _resolve(engine, "o365 e3 (ea)") == (E3, "ENTERPRISEPACK")
    import_catalog(engine, synthetic_catalog().data)
    assert _resolve(engine, "Visio Plan 2") == (VISIO, "VISIOCLIENT")


def test_an_ambiguous_name_names_the_products(engine: Engine, tenant: int) -> None:
    set_name(engine, E3, "E3")
    set_name(engine, M365_E3, "E3")
    with pytest.raises(
        UnknownProduct, match=r"the name 'E3' belongs to 2 products: ENTERPRISEPACK"
    ):
        set_price(engine, "E3", "20.00", "EUR", "monthly")
    with pytest.raises(UnknownProduct, match="unknown product 'Office 365 E9'"):
        _resolve(engine, "Office 365 E9")
