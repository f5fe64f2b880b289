"""Security properties: headers, cookies, CSRF, throttling, session fixation, no secret shown."""

from __future__ import annotations

import re

import httpx

from licensewatch.services.accounts import create_account
from licensewatch.storage.models.accounts import Role
from licensewatch.web.security import SECURITY_HEADERS
from web_fixtures import ADMIN_PASSWORD, CSRF_INPUT, SECRET_VALUE, WebEnv, sign_in
from web_seed import E3


def _login(client: httpx.Client, username: str, password: str, **extra: str) -> httpx.Response:
    found = CSRF_INPUT.search(client.get("/login").text)
    assert found is not None
    data = {"username": username, "password": password, "csrf_token": found.group(1), **extra}
    return client.post("/login", data=data, follow_redirects=False)


def test_security_headers_on_every_kind_of_response(
    web: WebEnv, admin: tuple[httpx.Client, str]
) -> None:
    client, _ = admin
    responses = [
        client.get("/"),
        client.get("/static/app.css"),
        client.get("/no-such-page"),
        client.get("/api/v1/balance"),
        httpx.get(f"{web.base_url}/api/v1/balance"),
        httpx.get(f"{web.base_url}/login"),
    ]
    for response in responses:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (response.url, name)
    policy = responses[0].headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "<script>" not in responses[0].text  # no inline scripts for the CSP to block
    assert responses[0].headers["cache-control"] == "no-store"


def test_session_cookie_flags_and_a_new_session_id_at_every_sign_in(web: WebEnv) -> None:
    with httpx.Client(base_url=web.base_url) as client:
        client.cookies.set("lw_session", "attacker-chosen-id", domain="127.0.0.1", path="/")
        response = _login(client, "alice", ADMIN_PASSWORD)
        assert response.status_code == 303
        header = response.headers["set-cookie"]
        assert "HttpOnly" in header
        assert "SameSite=lax" in header
        assert "Path=/" in header
        first = client.cookies["lw_session"]
        assert first != "attacker-chosen-id"
    with httpx.Client(base_url=web.base_url) as again:
        found = CSRF_INPUT.search(again.get("/login").text)
        assert found is not None
        again.cookies.set("lw_session", first, domain="127.0.0.1", path="/")
        data = {"username": "alice", "password": ADMIN_PASSWORD, "csrf_token": found.group(1)}
        assert again.post("/login", data=data, follow_redirects=False).status_code == 303
        assert again.cookies["lw_session"] != first
    with httpx.Client(base_url=web.base_url, cookies={"lw_session": first}) as stale:
        # Signing in again ended the previous session: its id is worthless now.
        assert stale.get("/", follow_redirects=False).status_code == 303


def test_logout_ends_the_session(web: WebEnv) -> None:
    with httpx.Client(base_url=web.base_url) as client:
        csrf = sign_in(client, "alice", ADMIN_PASSWORD)
        raw = client.cookies["lw_session"]
        assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    with httpx.Client(base_url=web.base_url, cookies={"lw_session": raw}) as replay:
        assert replay.get("/", follow_redirects=False).status_code == 303


def test_sign_in_form_needs_its_csrf_cookie(web: WebEnv) -> None:
    with httpx.Client(base_url=web.base_url) as client:
        data = {"username": "alice", "password": ADMIN_PASSWORD, "csrf_token": "made-up"}
        response = client.post("/login", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert "lw_session" not in client.cookies


def test_login_throttling_after_five_failures(web: WebEnv) -> None:
    create_account(web.engine, "trudy", Role.VIEWER, "trudy-password-123456")
    with httpx.Client(base_url=web.base_url) as client:
        for _ in range(5):
            assert _login(client, "trudy", "wrong password!").status_code == 401
        blocked = _login(client, "trudy", "trudy-password-123456")
        assert blocked.status_code == 429
        assert "Too many failed sign-ins" in blocked.text
        assert int(blocked.headers["retry-after"]) > 0
        # Another username from the same address is not punished for trudy's failures.
        assert _login(client, "alice", ADMIN_PASSWORD).status_code == 303


def test_next_parameter_never_redirects_off_site(web: WebEnv) -> None:
    with httpx.Client(base_url=web.base_url) as client:
        response = _login(client, "alice", ADMIN_PASSWORD, next="//evil.example/x")
        assert response.headers["location"] == "/"
    with httpx.Client(base_url=web.base_url) as client:
        response = _login(client, "alice", ADMIN_PASSWORD, next="/users?q=a")
        assert response.headers["location"] == "/users?q=a"


def test_no_response_ever_contains_the_client_secret(
    web: WebEnv, admin: tuple[httpx.Client, str], viewer: tuple[httpx.Client, str]
) -> None:
    paths = [
        "/api/v1/tenants",
        "/api/v1/tenants/contoso",
        "/api/openapi.json",
        "/tenants",
        "/tenants/contoso",
        "/healthz",
        "/",
        f"/api/v1/tenants/contoso/products/{E3}",
    ]
    for client, _ in (admin, viewer):
        for path in paths:
            assert SECRET_VALUE not in client.get(path).text, path
    admin_view = admin[0].get("/api/v1/tenants").json()[0]
    assert admin_view["credential"]["kind"] == "secret"
    viewer_view = viewer[0].get("/api/v1/tenants").json()[0]
    assert viewer_view["credential"] is None
    assert "client secret: set" in admin[0].get("/tenants/contoso").text
    assert not re.search(r"client secret|thumbprint", viewer[0].get("/tenants").text, re.I)
