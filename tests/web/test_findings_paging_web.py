"""Findings from the stored read model over HTTP: keyset pages, stale cursors, the CSV stream."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import httpx
import pytest

from licensewatch.intelligence.findings import CSV_COLUMNS, compute_findings
from licensewatch.intelligence.read_models.fingerprint import as_of
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant, utcnow
from web_fixtures import WebEnv


@pytest.fixture
def api(web: WebEnv) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {web.viewer_token}"}
    with httpx.Client(base_url=web.base_url, headers=headers) as client:
        yield client


def _truth(web: WebEnv) -> dict[str, list[str]]:
    with session_scope(web.engine, write=False) as session:
        pk = session.query(Tenant.id).filter(Tenant.name == "contoso").scalar()
    found = compute_findings(web.engine, pk, now=as_of(utcnow()))
    return {f.rule.value: [a.key for a in f.affected] for f in found}


def test_a_rule_paged_by_cursor_equals_the_whole_list(web: WebEnv, api: httpx.Client) -> None:
    truth = _truth(web)["disabled_holders"]
    assert len(truth) >= 2
    keys: list[str] = []
    params: dict[str, str | int] = {"tenant": "contoso", "rule": "disabled_holders", "limit": 1}
    while True:
        response = api.get("/api/v1/findings", params=params)
        assert response.status_code == 200, response.text
        [finding] = response.json()
        assert finding["count"] == len(truth)
        keys += [a["key"] for a in finding["affected"]]
        if finding["next_cursor"] is None:
            break
        params["cursor"] = finding["next_cursor"]
    assert keys == truth


def test_cursors_are_checked(api: httpx.Client) -> None:
    base = {"tenant": "contoso", "rule": "disabled_holders"}
    first = api.get("/api/v1/findings", params=base | {"limit": 1}).json()[0]["next_cursor"]
    stale = "0" * 16 + ".0"
    assert api.get("/api/v1/findings", params=base | {"cursor": stale}).status_code == 409
    assert api.get("/api/v1/findings", params=base | {"cursor": "nonsense"}).status_code == 422
    assert api.get("/api/v1/findings", params={"cursor": first}).status_code == 422  # no rule
    assert api.get("/api/v1/findings", params=base | {"limit": 5001}).status_code == 422
    assert api.get("/api/v1/findings", params=base | {"rule": "nope"}).status_code == 422


def test_the_page_links_the_next_rows_and_exports_every_row(
    web: WebEnv, viewer: tuple[httpx.Client, str], api: httpx.Client
) -> None:
    client, _ = viewer
    base = {"tenant": "contoso", "rule": "disabled_holders"}
    cursor = api.get("/api/v1/findings", params=base | {"limit": 1}).json()[0]["next_cursor"]
    page = client.get("/findings", params=base | {"cursor": cursor})
    assert page.status_code == 200
    truth = _truth(web)
    assert truth["disabled_holders"][0] not in page.text  # the first row was on the first page
    assert truth["disabled_holders"][1] in page.text
    # One rule across the tenants the caller sees, as the API answers it; a rule that does not
    # exist is a bad parameter (422) on the page, its .json twin and the API alike.
    one_rule = client.get("/findings", params={"rule": "disabled_holders"})
    assert one_rule.status_code == 200
    assert set(re.findall(r'data-rule="(\w+)"', one_rule.text)) == {"disabled_holders"}
    for path in ("/findings", "/findings.json"):
        assert client.get(path, params={"tenant": "contoso", "rule": "x"}).status_code == 422
    assert api.get("/api/v1/findings", params={"tenant": "contoso", "rule": "x"}).status_code == 422

    export = client.get("/findings.csv", params={"tenant": "contoso"})
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    by_rule: dict[str, list[str]] = {}
    for row in rows:
        if not row["detail"].startswith("unavailable: "):
            key = row["user_principal_name"] or row["product"]
            by_rule.setdefault(row["rule"], []).append(key)
    users = {r: keys for r, keys in truth.items() if keys and "@" in keys[0]}
    assert {r: by_rule.get(r) for r in users} == users
