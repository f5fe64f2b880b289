"""Intelligence pages and API: render for viewers, admin-only edits with CSRF, downloads."""

from __future__ import annotations

import io

import httpx
import pytest
from openpyxl import load_workbook

from web_fixtures import WebEnv
from web_seed import E3

PAGES = ["/findings", "/findings?tenant=contoso", "/costs", "/catalog", "/report"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_for_a_viewer(viewer: tuple[httpx.Client, str], path: str) -> None:
    client, _ = viewer
    response = client.get(path)
    assert response.status_code == 200, response.text[:2000]


def test_alerts_page_is_for_admins(
    viewer: tuple[httpx.Client, str], admin: tuple[httpx.Client, str]
) -> None:
    assert viewer[0].get("/alerts").status_code == 403
    assert admin[0].get("/alerts").status_code == 200
    assert viewer[0].get("/findings?tenant=nope").status_code == 404


def test_admin_sets_name_and_price_with_csrf(
    admin: tuple[httpx.Client, str], viewer: tuple[httpx.Client, str], web: WebEnv
) -> None:
    client, csrf = admin
    form = {"product": E3, "name": "E3 (web)", "csrf_token": csrf}
    assert client.post("/catalog/name", data=form | {"csrf_token": "x"}).status_code == 403
    viewer_client, viewer_csrf = viewer
    denied = viewer_client.post("/catalog/name", data=form | {"csrf_token": viewer_csrf})
    assert denied.status_code == 403
    done = client.post("/catalog/name", data=form, follow_redirects=False)
    assert done.status_code == 303
    price = {"product": E3, "amount": "20.50", "currency": "eur", "term": "monthly"}
    saved = client.post("/catalog/price", data=price | {"csrf_token": csrf}, follow_redirects=True)
    assert saved.status_code == 200
    bad = client.post("/catalog/price", data=price | {"amount": "x", "csrf_token": csrf})
    assert bad.status_code == 422
    assert "not a number" in bad.text
    page = client.get("/catalog").text
    assert "E3 (web)" in page
    assert "20.50 EUR/monthly" in page
    costs = client.get("/costs?tenant=contoso").text
    assert "EUR" in costs

    api = httpx.Client(
        base_url=web.base_url, headers={"Authorization": f"Bearer {web.admin_token}"}
    )
    with api:
        prices = api.get("/api/v1/prices").json()
        assert {p["sku_id"]: p["amount"] for p in prices}[E3] == "20.50"
        put = api.put(f"/api/v1/prices/{E3}", json={"amount": "240", "term": "annual"})
        assert put.status_code == 200
        assert put.json()["term"] == "annual"
        assert api.put("/api/v1/prices/NOPE", json={"amount": "1"}).status_code == 404
        findings = api.get("/api/v1/findings", params={"tenant": "contoso"}).json()
        over = next(f for f in findings if f["rule"] == "over_assigned")
        assert over["affected"][0]["name"] == "E3 (web)"
        assert over["monthly_cost"]["monthly"] == {"EUR": f"{20 * over['count']:.2f}"}
        assert api.get("/api/v1/catalog").json()[0]["name"]
        assert api.get("/api/v1/costs?tenant=contoso").status_code == 200
        assert api.get("/api/v1/alerts").status_code == 200
        assert api.delete(f"/api/v1/prices/{E3}").status_code == 204
    viewer_api = httpx.Client(
        base_url=web.base_url, headers={"Authorization": f"Bearer {web.viewer_token}"}
    )
    with viewer_api:
        assert viewer_api.get("/api/v1/findings").status_code == 200
        assert viewer_api.put(f"/api/v1/prices/{E3}", json={"amount": "1"}).status_code == 403
        assert viewer_api.get("/api/v1/alerts").status_code == 403


def test_report_downloads(viewer: tuple[httpx.Client, str]) -> None:
    client, _ = viewer
    xlsx = client.get("/report?format=xlsx&tenant=contoso")
    assert xlsx.status_code == 200
    assert "attachment" in xlsx.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert "findings" in workbook.sheetnames
    assert client.get("/report?format=csv").headers["content-type"] == "application/zip"
    assert client.get("/report?format=pdf").status_code == 422
