"""Every page renders for an admin over seeded data (a quick end-to-end pass through templates)."""

from __future__ import annotations

import httpx
import pytest

from web_seed import E3

PAGES = [
    "/",
    "/?tenant=contoso",
    f"/tenants/contoso/products/{E3}",
    f"/tenants/contoso/products/{E3}?q=user00",
    "/users",
    "/users?licensed=no&state=disabled&kind=guest&department=sales&country=germany",
    f"/users?sku_id={E3}",
    "/tenants/contoso/users/00000000-0000-0000-0000-000000000001",
    "/renewals",
    "/renewals?tenant=contoso",
    "/savings",
    "/savings?tenant=contoso&action=remove&confidence=high&product=Office+365+E3",
    "/sync",
    "/tenants",
    "/tenants/new",
    "/tenants/contoso",
    "/tenants/contoso/remove",
    "/accounts",
    "/me",
    "/api/docs",
]


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_for_admin(admin: tuple[httpx.Client, str], path: str) -> None:
    client, _ = admin
    response = client.get(path)
    assert response.status_code == 200, response.text[:2000]
    assert "<main" in response.text
