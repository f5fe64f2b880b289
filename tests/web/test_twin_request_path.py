"""Twin routes check the caller before the parameters and read on one connection per request."""

from __future__ import annotations

import gc
from typing import Any

import httpx
from sqlalchemy import event

from licensewatch.web.heap import YOUNG_THRESHOLD, settle_heap
from web_fixtures import WebEnv

BAD_PARAMS = "?tenant=contoso&licensed=perhaps&limit=-3"


def test_no_credentials_is_refused_before_the_parameters_are_read(web: WebEnv) -> None:
    with httpx.Client(base_url=web.base_url) as client:
        api = client.get("/api/v1/users" + BAD_PARAMS)
        assert api.status_code == 401
        assert api.headers["www-authenticate"] == "Bearer"
        twin = client.get("/users.json" + BAD_PARAMS)
        assert twin.status_code == 401
        page = client.get("/users" + BAD_PARAMS, follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login?next=")


def test_a_wrong_token_or_cookie_is_still_refused(web: WebEnv) -> None:
    with httpx.Client(base_url=web.base_url) as client:
        wrong = {"authorization": "Bearer " + web.admin_token[:-1]}
        assert client.get("/api/v1/users?tenant=contoso", headers=wrong).status_code == 401
        client.cookies.set("lw_session", "not-a-session")
        page = client.get("/users", follow_redirects=False)
        assert page.status_code == 303
        assert client.get("/api/v1/users?tenant=contoso").status_code == 401


def test_viewer_gets_403_from_an_admin_twin(web: WebEnv) -> None:
    bearer = {"authorization": f"Bearer {web.viewer_token}"}
    with httpx.Client(base_url=web.base_url, headers=bearer) as client:
        assert client.get("/api/v1/audit").status_code == 403
        assert client.get("/api/v1/tenants").status_code == 200


def test_one_pool_checkout_per_twin_request(web: WebEnv) -> None:
    checkouts: list[Any] = []

    def count(*_: Any) -> None:
        checkouts.append(1)

    bearer = {"authorization": f"Bearer {web.admin_token}"}
    with httpx.Client(base_url=web.base_url, headers=bearer) as client:
        # The first use of the token records it (a write of its own, once a minute).
        assert client.get("/api/v1/tenants").status_code == 200
        event.listen(web.engine, "checkout", count)
        try:
            for path in ("/api/v1/tenants", "/api/v1/users?tenant=contoso", "/api/v1/balance"):
                checkouts.clear()
                answer = client.get(path)
                assert answer.status_code == 200, path
                assert len(checkouts) == 1, path
        finally:
            event.remove(web.engine, "checkout", count)


def test_settle_heap_freezes_start_up_objects_and_raises_the_young_threshold() -> None:
    before = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
