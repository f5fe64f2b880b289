"""Every page and export names products by their friendly name where one is known.

A raw part number may show only as a secondary note beside the name (muted text, code), never
as the product's label in a cell, link, chip or option.
"""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import httpx
import pytest

from licensewatch.intelligence.builtin_names import BUILTIN_NAMES
from web_fixtures import WebEnv
from web_seed import E3, user_id

SEEDED = {"ENTERPRISEPACK": BUILTIN_NAMES["ENTERPRISEPACK"]}
SEEDED["ENTERPRISEPREMIUM"] = BUILTIN_NAMES["ENTERPRISEPREMIUM"]
PAGES = [
    "/", "/?tenant=contoso", "/users", "/users?sku_id=" + E3,
    f"/tenants/contoso/users/{user_id(1)}",
    f"/tenants/contoso/users/{user_id(59)}", f"/tenants/contoso/products/{E3}", "/renewals",
    "/changes", "/findings", "/costs", "/catalog", "/sync", "/tenants", "/tenants/contoso",
    "/report", "/alerts",
]  # fmt: skip
EXPORTS = {
    "/exports/balance.csv": "name",  # the one balance schema (docs/intelligence.md)
    "/exports/users.csv": "product",
    "/exports/subscriptions.csv": "product",
}
SECONDARY = {"muted", "mono"}


class Labels(HTMLParser):
    """Text nodes that stand alone as a label (not inside muted notes or code)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.labels: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "input", "meta", "link", "hr", "col", "source", "wbr"):
            return
        classes = set((dict(attrs).get("class") or "").split())
        self.stack.append((tag, bool(classes & SECONDARY) or tag in ("code", "title")))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if data.strip() and not any(secondary for _, secondary in self.stack):
            self.labels.append(data.strip())


def raw_labels(html: str) -> list[str]:
    parser = Labels()
    parser.feed(html)
    return [text for text in parser.labels if text in SEEDED]


@pytest.mark.parametrize("path", PAGES)
def test_pages_label_products_by_name(admin: tuple[httpx.Client, str], path: str) -> None:
    client, _ = admin
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert raw_labels(response.text) == [], path


def test_a_user_page_names_the_products(admin: tuple[httpx.Client, str]) -> None:
    client, _ = admin
    page = client.get(f"/tenants/contoso/users/{user_id(1)}").text
    assert SEEDED["ENTERPRISEPACK"] in page
    listed = client.get("/users", params={"sku_id": E3}).text
    assert f'title="ENTERPRISEPACK">{SEEDED["ENTERPRISEPACK"]}</span>' in listed


@pytest.mark.parametrize(("path", "column"), sorted(EXPORTS.items()))
def test_exports_carry_the_friendly_name(
    admin: tuple[httpx.Client, str], path: str, column: str
) -> None:
    client, _ = admin
    response = client.get(path)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows, path
    for row in rows:
        assert row[column] == SEEDED[row["sku_part_number"]], (path, row)


def test_the_api_names_user_products(web: WebEnv) -> None:
    headers = {"Authorization": f"Bearer {web.viewer_token}"}
    with httpx.Client(base_url=web.base_url, headers=headers) as client:
        detail = client.get(f"/api/v1/tenants/contoso/users/{user_id(1)}").json()
        assert detail["user"]["products"] == [SEEDED["ENTERPRISEPACK"]]
        assert [lic["product"] for lic in detail["licences"]] == [SEEDED["ENTERPRISEPACK"]]
