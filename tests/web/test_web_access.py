"""Authorization matrix over every route: anonymous, viewer, admin, and API tokens of both roles."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from web_fixtures import WebEnv
from web_seed import E3, user_id

PUBLIC = {
    "/login",
    "/healthz",
    "/api/openapi.json",
    "/api/docs",
    "/static",
    "/auth/login",  # sign in with Microsoft: starts at Entra ID
    "/auth/callback",  # Entra's answer: checked against the sign-in under way (state, PKCE)
}
# Admin-only GET pages; every POST is admin-only except these.
ADMIN_PAGES = {
    "/tenants/new",
    "/tenants/{name}",
    "/tenants/{name}/remove",
    "/accounts",
    "/alerts",
    "/audit",
    "/audit.json",  # a page's JSON twin (web/twins.py) has the page's access checks
    "/alerts.json",
}
# Admin-only reads of the API (alert rules and destinations, the audit log).
ADMIN_API_READS = {"/api/v1/alerts", "/api/v1/audit"}
ANY_ROLE_POSTS = {"/logout", "/me/tokens", "/me/tokens/{token_id}/revoke", "/login"}
PARAMS = {
    "{name}": "contoso",
    "{sku_id}": E3,
    "{user_id}": user_id(1),
    "{dataset}": "balance",
    "{fmt}": "csv",
    "{username}": "nobody",
    "{rule_id}": "1",
    "{product}": "ENTERPRISEPACK",
    "{token_id}": "999999",
    "{plan_id}": "1",
}


def _routes(web: WebEnv) -> list[tuple[str, str]]:
    found = []
    for route in iter_route_contexts(web.app.routes):
        path = route.path
        assert path is not None
        for method in sorted(route.methods or {"GET"}):
            if method != "HEAD":
                found.append((method, path))
    return found


def _url(path: str) -> str:
    for key, value in PARAMS.items():
        path = path.replace(key, value)
    return path


def test_every_route_is_classified(web: WebEnv) -> None:
    routes = _routes(web)
    assert len(routes) > 30
    for _method, path in routes:
        if path in PUBLIC or path.startswith("/api/v1/"):
            continue
        assert path.startswith("/"), path
        unknown = [p for p in re.findall(r"\{[a-z_]+\}", path) if p not in PARAMS]
        assert not unknown, path


def test_anonymous_is_sent_to_sign_in_or_gets_401(web: WebEnv, anonymous: httpx.Client) -> None:
    for method, path in _routes(web):
        if path in PUBLIC:
            continue
        response = anonymous.request(method, _url(path), follow_redirects=False)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
            assert response.headers["www-authenticate"].startswith("Bearer")
        elif path.endswith(".json"):  # a page's JSON twin: no sign-in form for a script
            assert response.status_code == 401, (method, path)
            assert response.json()["detail"]
        else:
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/login?next="), (method, path)


def test_public_routes_answer_anonymously(anonymous: httpx.Client) -> None:
    assert anonymous.get("/login").status_code == 200
    assert anonymous.get("/api/openapi.json").json()["openapi"].startswith("3.")
    assert anonymous.get("/api/docs").status_code == 200
    health = anonymous.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["database"]["ok"] is True
    assert health["tenant_count"] == 1  # names only for the signed in (test_web_hardening)


def test_viewer_reads_everything_but_admin_pages(
    web: WebEnv, viewer: tuple[httpx.Client, str]
) -> None:
    client, csrf = viewer
    for method, path in _routes(web):
        if path in PUBLIC or path == "/logout":
            continue
        if method == "GET":
            response = client.get(_url(path), follow_redirects=True)  # /products: the dashboard
            expected = 403 if path in ADMIN_PAGES | ADMIN_API_READS else 200
            assert response.status_code == expected, (path, response.status_code)
        elif path.startswith("/api/"):
            response = client.request(method, _url(path), headers={"x-csrf-token": csrf})
            assert response.status_code == 403, (method, path)
        elif path not in ANY_ROLE_POSTS:
            response = client.post(_url(path), data={"csrf_token": csrf})
            assert response.status_code == 403, path
    assert web.syncs.calls == []


def test_admin_reaches_every_page(web: WebEnv, admin: tuple[httpx.Client, str]) -> None:
    client, _ = admin
    for method, path in _routes(web):
        if method == "GET" and path not in PUBLIC:
            assert client.get(_url(path), follow_redirects=True).status_code == 200, path


def test_forms_without_csrf_token_are_refused(web: WebEnv, admin: tuple[httpx.Client, str]) -> None:
    client, csrf = admin
    for method, path in _routes(web):
        if method != "POST" or path in PUBLIC:
            continue
        if path.startswith("/api/"):
            response = client.post(_url(path))  # session cookie but no X-CSRF-Token header
        else:
            response = client.post(_url(path), data={"csrf_token": "forged"})
        assert response.status_code == 403, path
    assert web.syncs.calls == []
    # The same session with its token is accepted, so the refusals above were about CSRF.
    ok = client.post("/tenants/contoso/sync", data={"csrf_token": csrf}, follow_redirects=False)
    assert ok.status_code == 303


@pytest.mark.parametrize("who", ["admin", "viewer"])
def test_api_tokens_read_the_api_but_not_the_pages(web: WebEnv, who: str) -> None:
    token = web.admin_token if who == "admin" else web.viewer_token
    headers = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=web.base_url, headers=headers) as client:
        for method, path in _routes(web):
            if method == "GET" and path.startswith("/api/v1/"):
                admin_only = path in ADMIN_API_READS and who == "viewer"
                expected = 403 if admin_only else 200
                assert client.get(_url(path)).status_code == expected, path
        started = client.post("/api/v1/tenants/contoso/sync")
        assert started.status_code == (403 if who == "viewer" else 202), started.text
        assert client.get("/", follow_redirects=False).status_code == 303
    web.app.state.lw.launcher.join(5)


def test_unknown_and_malformed_tokens_get_401(web: WebEnv) -> None:
    with httpx.Client(base_url=web.base_url) as client:
        for value in ("Bearer lw_nope", "Bearer " + web.admin_token[:-1], "Basic abc"):
            response = client.get("/api/v1/balance", headers={"authorization": value})
            assert response.status_code == 401, value


PLAN_WRITES = (
    ("/api/v1/plans", {"tenant": "contoso", "remove": E3, "users": ["nobody@contoso.com"]}),
    ("/api/v1/plans/1/approve", None),
    ("/api/v1/plans/1/apply", None),
    ("/api/v1/plans/1/undo", None),
)


@pytest.mark.parametrize("who", ["viewer", "admin"])
def test_only_administrators_create_approve_apply_or_undo_plans(web: WebEnv, who: str) -> None:
    token = web.admin_token if who == "admin" else web.viewer_token
    headers = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=web.base_url, headers=headers) as client:
        answers = [client.post(path, json=body).status_code for path, body in PLAN_WRITES]
        assert client.get("/api/v1/plans/1").status_code == 200  # both roles read plans
    if who == "viewer":
        assert answers == [403, 403, 403, 403]
    else:
        # Unknown user: 422; approve: done; apply: writes are off; undo: nothing applied yet.
        assert answers == [422, 200, 409, 409]


def test_administrators_create_plans_from_recommendations(
    web: WebEnv, admin: tuple[httpx.Client, str], viewer: tuple[httpx.Client, str]
) -> None:
    body = {"tenant": "contoso", "from_recommendations": True, "actions": ["remove"]}
    headers = {"authorization": f"Bearer {web.viewer_token}"}
    with httpx.Client(base_url=web.base_url, headers=headers) as client:
        assert client.post("/api/v1/plans", json=body).status_code == 403
    viewer_client, viewer_csrf = viewer
    form = {"csrf_token": viewer_csrf, "tenant": "contoso", "action": "remove"}
    assert viewer_client.post("/plans/new", data=form).status_code == 403
    headers = {"authorization": f"Bearer {web.admin_token}"}
    with httpx.Client(base_url=web.base_url, headers=headers) as client:
        made = client.post("/api/v1/plans", json=body)
        assert made.status_code == 201, made.text
        plan = client.get(f"/api/v1/plans/{made.json()['id']}").json()
    assert plan["source"] == "recommendations"
    assert plan["lines"]
    assert {line["action"] for line in plan["lines"]} == {"remove"}
    client_, csrf = admin
    page = client_.post(
        "/plans/new", data={"csrf_token": csrf, "tenant": "contoso"}, follow_redirects=False
    )
    assert page.status_code == 303
    assert page.headers["location"].startswith("/plans/")
    assert "draft" in client_.get(page.headers["location"]).text
