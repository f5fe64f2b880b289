"""Issue 19, lower web items: /healthz names, 500 headers, expired credentials, CA bundle probes."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from licensewatch.emulator.certs import make_client_certificate
from licensewatch.web import create_app
from licensewatch.web.security import SECURITY_HEADERS
from web_fixtures import SECRET_VALUE, WebEnv
from web_server import serve_in_thread

TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "4d856d1f-0000-4000-8000-000000000001"


def test_anonymous_healthz_names_no_tenant(web: WebEnv, anonymous: httpx.Client) -> None:
    response = anonymous.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["tenant_count"] == 1
    assert body["tenants_failing"] == 0
    assert "contoso" not in response.text


def test_signed_in_healthz_lists_the_tenants(web: WebEnv, admin: tuple[httpx.Client, str]) -> None:
    by_cookie = admin[0].get("/healthz").json()
    headers = {"authorization": f"Bearer {web.viewer_token}"}
    by_token = httpx.get(f"{web.base_url}/healthz", headers=headers).json()
    for body in (by_cookie, by_token):
        assert [t["name"] for t in body["tenants"]] == ["contoso"]
        assert body["tenants"][0]["last_sync_status"] == "COMPLETED"
    forged = {"authorization": "Bearer lw_not-a-token"}
    assert "contoso" not in httpx.get(f"{web.base_url}/healthz", headers=forged).text


def test_healthz_names_can_be_made_public(web: WebEnv) -> None:
    settings = web.settings.model_copy(update={"healthz_public_tenants": True})
    with serve_in_thread(create_app(settings, engine=web.engine)) as base:
        assert httpx.get(f"{base}/healthz").json()["tenants"][0]["name"] == "contoso"


def _failing_app(web: WebEnv) -> FastAPI:
    app = create_app(web.settings, engine=web.engine)

    def explode() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", explode)
    app.add_api_route("/api/v1/boom", explode)
    return app


def test_a_500_carries_the_security_headers(web: WebEnv) -> None:
    with serve_in_thread(_failing_app(web)) as base:
        for path in ("/boom", "/api/v1/boom"):
            response = httpx.get(base + path)
            assert response.status_code == 500
            for name, value in SECURITY_HEADERS.items():
                assert response.headers.get(name) == value, (path, name)
            assert response.headers["cache-control"] == "no-store"
            assert "a bug" not in response.text


def _onboard(
    client: httpx.Client, csrf: str, action: str, files: dict[str, tuple[str, bytes]] | None = None,
    **fields: str,
) -> httpx.Response:  # fmt: skip
    data = {
        "csrf_token": csrf, "name": "fabrikam", "tenant_id": TENANT_ID, "client_id": CLIENT_ID,
        "credential_kind": "secret", "client_secret": SECRET_VALUE, "action": action, **fields,
    }  # fmt: skip
    return client.post("/tenants/new", data=data, files=files, follow_redirects=False)


def test_the_web_onboarding_refuses_an_expired_certificate(
    web: WebEnv, admin: tuple[httpx.Client, str]
) -> None:
    client, csrf = admin
    expired = make_client_certificate("old", dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
                                      dt.datetime.now(dt.UTC) - dt.timedelta(days=400))  # fmt: skip
    upload = {"certificate": ("app.pem", expired.certificate_pem + expired.private_key_pem)}
    for action in ("save", "test"):
        response = _onboard(client, csrf, action, upload, credential_kind="certificate")
        assert response.status_code == 422, action
        assert re.search(r"expired on \d{4}-\d\d-\d\d: Entra refuses it", response.text)
    past = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3)).isoformat()
    response = _onboard(client, csrf, "save", secret_expires=past)
    assert response.status_code == 422
    assert f"the secret expired on {past}" in response.text
    assert "fabrikam" not in client.get("/tenants").text


@pytest.mark.parametrize("action", ["test", "save"])
def test_the_ca_bundle_field_does_not_tell_which_server_paths_exist(
    web: WebEnv, admin: tuple[httpx.Client, str], tmp_path: Path, action: str
) -> None:
    client, csrf = admin
    (tmp_path / "notes.txt").write_text("not a certificate")
    probes = ["/etc/passwd", "/no/such/file", "/etc", "/dev/zero", str(tmp_path / "notes.txt")]
    messages = set()
    for probe in probes:
        response = _onboard(client, csrf, action, ca_bundle=probe)
        assert response.status_code == 422, probe
        found = re.search(r"CA bundle \S+ (is not [^<.]*)", response.text)
        assert found is not None, probe
        messages.add(found.group(1))
        assert "root:" not in response.text
    assert messages == {"is not a readable PEM file of CA certificates"}
