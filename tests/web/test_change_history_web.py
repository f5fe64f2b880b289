"""The change history in the web app: page filters, CSV export, API twin, user and product pages."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from licensewatch.storage.database import session_scope
from licensewatch.storage.models import ChangeKind, LicenceChange, SyncRun, Tenant, utcnow
from web_fixtures import WebEnv
from web_seed import E3, E5, GROUP, user_id

UPN = "user001@contoso.example"


@pytest.fixture(scope="module", autouse=True)
def history(web: WebEnv) -> None:
    """Changes of three syncs: E3 gained via a group, E5 removed, an account disabled, units."""
    now = utcnow()
    with session_scope(web.engine) as session:
        tenant = session.scalar(select(Tenant).where(Tenant.name == "contoso"))
        assert tenant is not None
        runs = list(session.scalars(select(SyncRun.id).where(SyncRun.tenant_id == tenant.id)))
        rows = [
            (runs[0], 40, ChangeKind.LICENCE_ADDED, user_id(1), UPN, E3, GROUP, None),
            (runs[1], 20, ChangeKind.LICENCE_REMOVED, user_id(1), UPN, E5, None, None),
            (runs[1], 20, ChangeKind.ACCOUNT_DISABLED, user_id(9), "user009@contoso.example",
             None, None, None),
            (runs[2], 1, ChangeKind.UNITS_CHANGED, None, None, E3, None,
             {"sku_part_number": "ENTERPRISEPACK", "units": "enabled", "from": 25, "to": 30}),
        ]  # fmt: skip
        for run, days, kind, uid, upn, sku, group, detail in rows:
            session.add(
                LicenceChange(
                    tenant_id=tenant.id,
                    run_id=run,
                    occurred_at=now - timedelta(days=days),
                    kind=kind.value,
                    user_id=uid,
                    user_principal_name=upn,
                    sku_id=sku,
                    assigned_by_group=group,
                    detail=detail,
                )
            )


def _csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))


def test_changes_page_lists_every_change_with_names(viewer: tuple[httpx.Client, str]) -> None:
    client, _ = viewer
    page = client.get("/changes")
    assert page.status_code == 200
    text = page.text
    for expected in ("Licence added", "Licence removed", "Account disabled", "Units changed"):
        assert expected in text
    assert "Office 365 E3" in text
    assert "Office 365 E5" in text
    assert "via group Sales licences" in text
    assert "enabled: 25 → 30" in text
    assert 'href="/changes" aria-current="page"' in text  # the navigation names the page


@pytest.mark.parametrize(
    ("query", "kinds"),
    [
        ({"user": UPN.upper()}, {"licence_added", "licence_removed"}),
        ({"user_id": user_id(9)}, {"account_disabled"}),
        ({"sku_id": E3}, {"licence_added", "units_changed"}),
        ({"kind": "licence_removed"}, {"licence_removed"}),
        ({"since": f"{utcnow() - timedelta(days=30):%Y-%m-%d}"}, None),
        ({"until": f"{utcnow() - timedelta(days=30):%Y-%m-%d}"}, {"licence_added"}),
        ({"tenant": "contoso", "sku_id": E5, "kind": "licence_added"}, set()),
    ],
)
def test_filters_agree_on_page_csv_and_api(
    web: WebEnv, viewer: tuple[httpx.Client, str], query: dict[str, str], kinds: set[str] | None
) -> None:
    client, _ = viewer
    expected = kinds if kinds is not None else {"licence_removed", "account_disabled"}
    expected |= {"units_changed"} if kinds is None else set()
    api = client.get("/api/v1/changes", params=query)
    assert api.status_code == 200, api.text
    assert {item["kind"] for item in api.json()["items"]} == expected
    rows = _csv(client.get("/changes.csv", params=query))
    assert {row["kind"] for row in rows} == expected
    assert all(row["product"] != row["sku_part_number"] for row in rows if row["sku_id"])
    assert client.get("/changes", params=query).status_code == 200
    with httpx.Client(base_url=web.base_url) as bearer:
        headers = {"Authorization": f"Bearer {web.viewer_token}"}
        same = bearer.get("/api/v1/changes", params=query, headers=headers).json()
        assert same == api.json()


def test_api_pages_and_refuses_bad_filters(viewer: tuple[httpx.Client, str]) -> None:
    client, _ = viewer
    first = client.get("/api/v1/changes", params={"limit": 3}).json()
    assert (len(first["items"]), first["has_more"]) == (3, True)
    rest = client.get("/api/v1/changes", params={"limit": 3, "offset": 3}).json()
    assert (len(rest["items"]), rest["has_more"]) == (1, False)
    newest = first["items"][0]
    assert newest["kind"] == "units_changed"
    assert newest["product"] == "Office 365 E3"
    assert newest["occurred_at"].endswith(("Z", "+00:00"))
    assert client.get("/api/v1/changes", params={"since": "banana"}).status_code == 422
    assert client.get("/api/v1/changes", params={"until": "9999-12-31"}).status_code == 422
    assert client.get("/api/v1/changes", params={"kind": "nope"}).status_code == 422
    assert client.get("/api/v1/changes", params={"tenant": "nope"}).status_code == 404
    bad = client.get("/changes", params={"since": "banana"})
    assert bad.status_code == 422
    assert "&#39;banana&#39; is not a date" in bad.text


def test_user_and_product_pages_show_their_history(viewer: tuple[httpx.Client, str]) -> None:
    client, _ = viewer
    user = client.get(f"/tenants/contoso/users/{user_id(1)}").text
    assert "Licence history" in user
    assert user.count('<tr class="change-') == 2
    assert f"/changes?tenant=contoso&amp;user_id={user_id(1)}" in user
    assert 'href="/users" aria-current="page"' in user  # not Tenants
    product = client.get(f"/tenants/contoso/products/{E3}").text
    assert product.count('<tr class="change-') == 2
    assert UPN in product
    assert "enabled: 25 → 30" in product
    assert 'href="/" aria-current="page"' in product


def test_openapi_lists_the_rest_api_only(anonymous: httpx.Client) -> None:
    paths = anonymous.get("/api/openapi.json").json()["paths"]
    assert "/api/v1/changes" in paths
    assert all(path.startswith("/api/v1/") for path in paths), sorted(paths)
    docs = anonymous.get("/api/docs").text
    assert "/api/v1/changes" in docs
    assert "<code>/tenants/" not in docs
    assert "<code>/login" not in docs


def test_products_list_is_the_dashboard(viewer: tuple[httpx.Client, str]) -> None:
    client, _ = viewer
    response = client.get("/products", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (307, "/")
    tenant = client.get("/tenants/contoso/products", follow_redirects=False)
    assert tenant.headers["location"] == "/?tenant=contoso"
    assert client.get("/products", follow_redirects=True).status_code == 200


def test_report_lists_recent_changes_by_name(viewer: tuple[httpx.Client, str]) -> None:
    client, _ = viewer
    report = client.get("/report", params={"tenant": "contoso"}).text
    recent = report.split("<h2>Recent changes")[1]
    # The report's week holds yesterday's units change of ENTERPRISEPACK: named, not its GUID.
    assert "<td>units_changed</td><td></td><td>Office 365 E3</td>" in recent
    assert E3 not in recent
