"""Savings and renewal plan routes: filters, bad input, unknown tenants, CSV and XLSX exports."""

from __future__ import annotations

import csv
import io

import httpx
from openpyxl import load_workbook

from licensewatch.intelligence.recommendations import CSV_COLUMNS
from licensewatch.intelligence.renewals import PLAN_COLUMNS
from web_fixtures import WebEnv


def _api(web: WebEnv) -> httpx.Client:
    return httpx.Client(
        base_url=web.base_url, headers={"Authorization": f"Bearer {web.viewer_token}"}
    )


def test_filters_and_bad_input(web: WebEnv) -> None:
    with _api(web) as api:
        everything = api.get("/api/v1/savings").json()["recommendations"]
        assert everything
        high = api.get("/api/v1/savings", params={"confidence": "high", "product": "office 365 e3"})
        kept = [
            r
            for r in everything
            if r["confidence"] == "high" and r["product_name"] == "Office 365 E3"
        ]
        assert high.json()["recommendations"] == kept
        assert api.get("/api/v1/savings", params={"action": "downgrade"}).json()["by_action"] == []
        bad = api.get("/api/v1/savings", params={"action": "sell"})
        assert bad.status_code == 422
        assert "remove, downgrade, remove_duplicate, remove_addon" in bad.text
        assert api.get("/api/v1/savings", params={"confidence": "sure"}).status_code == 422
        assert api.get("/api/v1/savings", params={"tenant": "nope"}).status_code == 404
        assert api.get("/api/v1/renewals/plan", params={"tenant": "nope"}).status_code == 404


def test_exports_go_through_the_cell_rule(admin: tuple[httpx.Client, str]) -> None:
    client, _ = admin
    response = client.get("/savings/export.csv", params={"action": "remove"})
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"))))
    assert rows[0] == list(CSV_COLUMNS)
    assert {row[3] for row in rows[1:]} == {"remove"}
    workbook = client.get("/savings/export.xlsx", params={"action": "remove"})
    book = load_workbook(io.BytesIO(workbook.content), read_only=True)
    sheet = book.active
    assert sheet is not None
    cells = [["" if v is None else str(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    book.close()
    assert len(cells) == len(rows)
    assert cells[0] == list(CSV_COLUMNS)
    plan = client.get("/renewals/plan.xlsx", params={"tenant": "contoso"})
    book = load_workbook(io.BytesIO(plan.content), read_only=True)
    sheet = book.active
    assert sheet is not None
    assert next(sheet.iter_rows(values_only=True)) == tuple(PLAN_COLUMNS)
    book.close()
    assert client.get("/savings", params={"confidence": "sure"}).status_code == 422
    assert client.get("/renewals/plan.csv", params={"tenant": "nope"}).status_code == 404


def test_the_api_pages_the_stored_recommendations(
    web: WebEnv, admin: tuple[httpx.Client, str]
) -> None:
    with _api(web) as api:
        everything = api.get("/api/v1/recommendations").json()
        assert len(everything) > 2
        assert "x-next-cursor" not in api.get("/api/v1/recommendations").headers
        seen: list[object] = []
        params: dict[str, str | int] = {"limit": 2}
        while True:
            page = api.get("/api/v1/recommendations", params=params)
            assert page.status_code == 200
            seen += page.json()
            cursor = page.headers.get("x-next-cursor")
            if cursor is None:
                break
            assert 'rel="next"' in page.headers["link"]
            params = {"limit": 2, "cursor": cursor}
        assert seen == everything
        savings = api.get("/api/v1/savings").json()
        assert savings["recommendations"] == everything
        assert (savings["count"], savings["next_cursor"]) == (len(everything), None)
        first = api.get("/api/v1/savings", params={"limit": 2}).json()
        assert first["count"] == len(everything)  # the sums cover all, the list one page
        assert first["yearly_saving"] == savings["yearly_saving"]
        after = api.get("/api/v1/savings", params={"limit": 2, "cursor": first["next_cursor"]})
        assert first["recommendations"] + after.json()["recommendations"] == everything[:4]
        assert api.get("/api/v1/recommendations", params={"cursor": "x"}).status_code == 422
        old = api.get("/api/v1/recommendations", params={"cursor": "000000000000.0.1.0"})
        assert old.status_code == 409
        assert api.get("/api/v1/recommendations", params={"limit": 5001}).status_code == 422
    client, _ = admin
    assert client.get("/savings", params={"cursor": "000000000000.0.1.0"}).status_code == 409
    page = client.get("/savings")
    assert page.status_code == 200
    assert f'id="saving-count">{len(everything)}<' in page.text
