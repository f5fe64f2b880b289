"""Real MSAL ConfidentialClientApplication against the emulated Entra endpoints over real TLS."""

from __future__ import annotations

import base64
import ssl
import time
import uuid
from typing import Any

import httpx
import jwt
import msal
import pytest
import requests

from emulator_fixtures import GRAPH_SCOPE, AuthEmulator, EmulatorFactory


class RecordingHttp:
    """MSAL's http_client: a requests.Session that ignores the environment and records calls."""

    def __init__(self, ca_bundle: str) -> None:
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE would override `verify` (requests)
        self.session.verify = ca_bundle
        self.posts: list[dict[str, Any]] = []
        self.gets: list[str] = []

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kw: Any
    ) -> Any:
        self.posts.append({"url": url, "data": dict(data or {}), "headers": dict(headers or {})})
        return self.session.post(url, params=params, data=data, headers=headers, **kw)

    def get(self, url: str, params: Any = None, headers: Any = None, **kw: Any) -> Any:
        self.gets.append(url)
        return self.session.get(url, params=params, headers=headers, **kw)

    def close(self) -> None:
        self.session.close()


def make_app(
    emu: AuthEmulator, client_id: str, credential: Any, tenant: str | None = None, **kw: Any
) -> tuple[Any, RecordingHttp]:
    """A new app object per attempt: MSAL caches a 400 for 60 s and discovery for 24 h (§1.7)."""
    http = RecordingHttp(str(emu.running.ca_bundle))
    kw.setdefault("instance_discovery", False)
    app = msal.ConfidentialClientApplication(
        client_id,
        client_credential=credential,
        authority=f"{emu.base_url}/{tenant or emu.auth.tenant.tenant_id}",
        http_client=http,
        azure_region=False,
        **kw,
    )
    return app, http


def acquire(app: Any) -> dict[str, Any]:
    result: dict[str, Any] = app.acquire_token_for_client(scopes=[GRAPH_SCOPE])
    return result


def assertion_header(http: RecordingHttp) -> dict[str, Any]:
    header: dict[str, Any] = jwt.get_unverified_header(http.posts[-1]["data"]["client_assertion"])
    return header


def test_secret_then_cache(auth_emulator: AuthEmulator) -> None:
    auth = auth_emulator.auth
    app, http = make_app(auth_emulator, auth.app.client_id, auth.secret)
    first = acquire(app)
    assert first["token_source"] == "identity_provider"
    assert (first["token_type"], first["expires_in"], first["ext_expires_in"]) == (
        "Bearer",
        3599,
        3599,
    )
    assert (
        auth_emulator.issuer.verify(f"Bearer {first['access_token']}").app_id == auth.app.client_id
    )
    assert acquire(app)["token_source"] == "cache"
    assert len(http.posts) == 1
    assert http.gets == [
        f"{auth_emulator.base_url}/{auth.tenant.tenant_id}/v2.0/.well-known/openid-configuration"
    ]
    assert http.posts[0]["data"]["client_secret"] == auth.secret
    http.close()


def test_certificate_by_thumbprint_uses_rs256(auth_emulator: AuthEmulator) -> None:
    auth = auth_emulator.auth
    credential = {
        "private_key": auth.certificate.private_key_pem.decode(),
        "thumbprint": auth.certificate.thumbprint_sha1,
    }
    app, http = make_app(auth_emulator, auth.app.client_id, credential)
    result = acquire(app)
    assert "access_token" in result, result
    header = assertion_header(http)
    assert header["alg"] == "RS256"
    assert "x5t" in header
    assert "x5c" not in header
    http.close()


def test_certificate_with_public_certificate_uses_ps256_and_x5c(
    auth_emulator: AuthEmulator,
) -> None:
    auth = auth_emulator.auth
    credential = {
        "private_key": auth.certificate.private_key_pem.decode(),
        "public_certificate": auth.certificate.certificate_pem.decode(),
    }
    app, http = make_app(auth_emulator, auth.app.client_id, credential)
    result = acquire(app)
    assert "access_token" in result, result
    assert (
        jwt.decode(result["access_token"], options={"verify_signature": False})["appidacr"] == "2"
    )
    header = assertion_header(http)
    assert header["alg"] == "PS256"
    assert "x5t#S256" in header
    assert "x5c" in header
    http.close()


def test_tenant_given_as_domain(auth_emulator: AuthEmulator) -> None:
    auth = auth_emulator.auth
    app, http = make_app(auth_emulator, auth.app.client_id, auth.secret, tenant=auth.tenant.domain)
    result = acquire(app)
    assert "access_token" in result, result
    # MSAL posts to the token endpoint the discovery document named: the tenant GUID.
    assert (
        http.posts[0]["url"]
        == f"{auth_emulator.base_url}/{auth.tenant.tenant_id}/oauth2/v2.0/token"
    )
    http.close()


def test_custom_instance_discovery_url(auth_emulator: AuthEmulator) -> None:
    auth = auth_emulator.auth
    discovery = f"{auth_emulator.base_url}/common/discovery/instance"
    app, http = make_app(
        auth_emulator, auth.app.client_id, auth.secret, instance_discovery=discovery
    )
    assert "access_token" in acquire(app)
    assert http.gets[0].startswith(discovery)
    http.close()


def test_client_request_id_is_echoed_as_correlation_id(auth_emulator: AuthEmulator) -> None:
    auth = auth_emulator.auth
    app, http = make_app(auth_emulator, auth.app.client_id, "wrong")
    result = acquire(app)
    assert result["correlation_id"] == http.posts[0]["headers"]["client-request-id"]
    http.close()


@pytest.mark.parametrize(
    ("case", "code", "error"),
    [
        ("wrong secret", 7000215, "invalid_client"),
        ("secret id", 7000215, "invalid_client"),
        ("expired secret", 7000222, "invalid_client"),
        ("unknown client", 700016, "unauthorized_client"),
        ("other tenant's app", 700016, "unauthorized_client"),
        ("unregistered certificate", 700027, "invalid_client"),
        ("expired certificate", 700027, "invalid_client"),
        ("expired assertion", 700024, "invalid_client"),
        ("assertion for another endpoint", 700023, "invalid_client"),
    ],
)
def test_msal_sees_each_aadsts_error(
    auth_emulator: AuthEmulator, case: str, code: int, error: str
) -> None:
    auth = auth_emulator.auth
    client_id, credential = auth.app.client_id, _credential(auth_emulator, case)
    if case == "unknown client":
        client_id = str(uuid.uuid4())
    elif case == "other tenant's app":
        client_id = next(iter(auth.other.apps))
    app, http = make_app(auth_emulator, client_id, credential)
    result = acquire(app)
    assert result["error"] == error, result
    assert result["error_codes"] == [code]
    assert result["error_description"].startswith(f"AADSTS{code}: ")
    http.close()


def _credential(emu: AuthEmulator, case: str) -> Any:
    auth = emu.auth
    by_case: dict[str, Any] = {
        "wrong secret": "not the secret",
        "secret id": auth.app.secrets[0].key_id,
        "expired secret": auth.expired_secret,
        "unregistered certificate": {
            "private_key": auth.unregistered.private_key_pem.decode(),
            "thumbprint": auth.unregistered.thumbprint_sha1,
        },
        "expired certificate": {
            "private_key": auth.expired_certificate.private_key_pem.decode(),
            "public_certificate": auth.expired_certificate.certificate_pem.decode(),
        },
    }
    if case in by_case:
        return by_case[case]
    if case in {"expired assertion", "assertion for another endpoint"}:
        now = time.time()
        aud = f"{emu.base_url}/{auth.tenant.tenant_id}/oauth2/v2.0/token"
        if case == "assertion for another endpoint":
            aud = f"https://login.microsoftonline.com/{auth.tenant.tenant_id}/oauth2/v2.0/token"
        exp = now - 3600 if case == "expired assertion" else now + 600
        claims = {"aud": aud, "iss": auth.app.client_id, "sub": auth.app.client_id, "exp": exp}
        headers = {"x5t": _x5t(auth.certificate.thumbprint_sha1)}
        signed = jwt.encode(
            claims, auth.certificate.private_key_pem, algorithm="RS256", headers=headers
        )
        return {"client_assertion": lambda: signed}  # a callable: MSAL warns about static strings
    return auth.secret


def _x5t(sha1_hex: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(sha1_hex)).decode().rstrip("=")


def test_scope_without_default_is_1002012(auth_emulator: AuthEmulator) -> None:
    auth = auth_emulator.auth
    app, http = make_app(auth_emulator, auth.app.client_id, auth.secret)
    result: dict[str, Any] = app.acquire_token_for_client(scopes=["User.Read.All"])
    assert result["error"] == "invalid_scope"
    assert result["error_codes"] == [1002012]
    http.close()


@pytest.mark.parametrize("tenant", ["5d3c1b2a-0000-4000-8000-000000000000", "not_a_tenant"])
def test_bad_tenant_fails_in_the_constructor(auth_emulator: AuthEmulator, tenant: str) -> None:
    """Discovery answers 90002/900023 with a 400; MSAL turns that into a ValueError (§1.7)."""
    auth = auth_emulator.auth
    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        make_app(auth_emulator, auth.app.client_id, auth.secret, tenant=tenant)


def test_unconsented_app_gets_a_token_without_roles(auth_emulator: AuthEmulator) -> None:
    auth = auth_emulator.auth
    app, http = make_app(auth_emulator, auth.unconsented.client_id, "x")
    result = acquire(app)
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert "roles" not in claims
    assert claims["idtyp"] == "app"
    assert auth_emulator.issuer.verify(f"Bearer {result['access_token']}").roles == frozenset()
    http.close()


def test_revoked_consent_means_no_roles_and_graph_403(make_emulator: EmulatorFactory) -> None:
    """The whole emulator: Entra still issues a token without consent; Graph refuses it (§1.5)."""
    running = make_emulator(tenants=1, users=20)
    tenant = running.info["tenants"][0]
    context = ssl.create_default_context(cafile=str(running.ca_bundle))
    with httpx.Client(base_url=running.base_url, verify=context, trust_env=False) as c:
        mutation = {"op": "revoke_consent"}
        assert c.post(
            f"/_emulator/tenants/{tenant['tenant_id']}/mutations", json=mutation
        ).is_success
        http = RecordingHttp(str(running.ca_bundle))
        app = msal.ConfidentialClientApplication(
            tenant["client_id"],
            client_credential=tenant["client_secret"],
            authority=f"{running.base_url}/{tenant['tenant_id']}",
            http_client=http,
            instance_discovery=False,
            azure_region=False,
        )
        token = acquire(app)["access_token"]
        http.close()
        assert "roles" not in jwt.decode(token, options={"verify_signature": False})
        users = c.get("/v1.0/users", headers={"Authorization": f"Bearer {token}"})
    assert users.status_code == 403
    error = users.json()["error"]
    assert error["code"] == "Authorization_RequestDenied"
    assert error["message"] == "Insufficient privileges to complete the operation."
