"""Offsets past what a database integer holds are refused with 422, never a 500."""

from __future__ import annotations

import httpx
import pytest

from licensewatch.web.paging import MAX_OFFSET
from web_fixtures import WebEnv

HUGE = 25_989_234_631_735_060_278_633_234_956_288  # what schemathesis once sent


@pytest.mark.parametrize("path", ["/api/v1/sync-runs", "/api/v1/users"])
def test_api_refuses_offsets_no_database_can_hold(web: WebEnv, path: str) -> None:
    headers = {"authorization": f"Bearer {web.admin_token}"}
    with httpx.Client(base_url=web.base_url, headers=headers) as client:
        assert client.get(path, params={"offset": MAX_OFFSET}).status_code == 200
        assert client.get(path, params={"offset": MAX_OFFSET + 1}).status_code == 422
        assert client.get(path, params={"offset": HUGE}).status_code == 422


@pytest.mark.parametrize("path", ["/sync", "/users"])
def test_pages_refuse_them_too(admin: tuple[httpx.Client, str], path: str) -> None:
    client, _ = admin
    assert client.get(path, params={"offset": MAX_OFFSET}).status_code == 200
    assert client.get(path, params={"offset": HUGE}).status_code == 422
