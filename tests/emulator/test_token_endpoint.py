"""The emulated Entra token endpoint over real HTTPS: bodies, AADSTS codes, assertions, tokens."""

from __future__ import annotations

import base64
import re
import ssl
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx
import jwt
import pytest

from emulator_fixtures import (
    GRAPH_SCOPE,
    AuthEmulator,
    CertFiles,
    EmulatorFactory,
    auth_app,
    build_auth_world,
)
from licensewatch.emulator.faults import FaultInjector
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.tokens import InvalidToken, TokenIssuer

ERROR_KEYS = {
    "error",
    "error_description",
    "error_codes",
    "timestamp",
    "trace_id",
    "correlation_id",
    "error_uri",
}
GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def client(auth_emulator: AuthEmulator) -> Iterator[httpx.Client]:
    context = ssl.create_default_context(cafile=str(auth_emulator.running.ca_bundle))
    with httpx.Client(base_url=auth_emulator.base_url, verify=context, trust_env=False) as c:
        yield c


def token_url(tenant: str) -> str:
    return f"/{tenant}/oauth2/v2.0/token"


def post_token(
    client: httpx.Client, tenant: str, form: dict[str, str], **kwargs: Any
) -> httpx.Response:
    return client.post(token_url(tenant), data=form, **kwargs)


def secret_form(client_id: str, secret: str | None, scope: str = GRAPH_SCOPE) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": client_id, "scope": scope}
    if secret is not None:
        form["client_secret"] = secret
    return form


def assert_aad_error(response: httpx.Response, status: int, code: int, error: str) -> str:
    """Checks the exact error body shape and returns the message part of error_description."""
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store, no-cache"
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_uri"] == f"https://login.microsoftonline.com/error?code={code}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", body["timestamp"])
    assert re.fullmatch(GUID, body["trace_id"])
    pattern = (
        rf"AADSTS{code}: (?P<msg>.+)\r\nTrace ID: {body['trace_id']}\r\n"
        rf"Correlation ID: {body['correlation_id']}\r\nTimestamp: {body['timestamp']}"
    )
    match = re.fullmatch(pattern, body["error_description"], re.DOTALL)
    assert match is not None, body["error_description"]
    return match["msg"]


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


# ---- client secrets ------------------------------------------------------------------------------


def test_secret_in_body_gives_graph_token(
    client: httpx.Client, auth_emulator: AuthEmulator
) -> None:
    auth = auth_emulator.auth
    response = post_token(
        client, auth.tenant.tenant_id, secret_form(auth.app.client_id, auth.secret)
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store, no-cache"
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert list(body) == ["token_type", "expires_in", "ext_expires_in", "access_token"]
    assert (body["token_type"], body["expires_in"], body["ext_expires_in"]) == (
        "Bearer",
        3599,
        3599,
    )
    claims = claims_of(body["access_token"])
    tid = auth.tenant.tenant_id
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["iss"] == f"https://sts.windows.net/{tid}/"
    assert (claims["tid"], claims["appid"], claims["azp"]) == (
        tid,
        auth.app.client_id,
        auth.app.client_id,
    )
    assert (claims["idtyp"], claims["ver"], claims["appidacr"]) == ("app", "1.0", "1")
    assert claims["roles"] == ["Organization.Read.All", "User.Read.All"]
    assert claims["oid"] == claims["sub"]
    assert claims["exp"] - claims["iat"] == 3599
    assert claims["nbf"] == claims["iat"]
    verified = auth_emulator.issuer.verify(f"Bearer {body['access_token']}")
    assert verified.roles == frozenset({"Organization.Read.All", "User.Read.All"})
    assert (verified.tenant_id, verified.app_id) == (tid, auth.app.client_id)


def test_any_live_secret_works_and_tenant_may_be_a_domain(
    client: httpx.Client, auth_emulator: AuthEmulator
) -> None:
    auth = auth_emulator.auth
    form = secret_form(auth.app.client_id, auth.second_secret)
    response = post_token(client, "Contoso.onmicrosoft.com", form)
    assert response.status_code == 200
    assert claims_of(response.json()["access_token"])["tid"] == auth.tenant.tenant_id


def test_secret_by_http_basic(client: httpx.Client, auth_emulator: AuthEmulator) -> None:
    auth = auth_emulator.auth
    form = secret_form(auth.app.client_id, None)
    del form["client_id"]
    # RFC 6749 §2.3.1: both halves form-encoded before base64 (the secret holds + / =).
    raw = f"{quote_plus(auth.app.client_id)}:{quote_plus(auth.secret)}"
    assert "%2B" in raw
    header = "Basic " + base64.b64encode(raw.encode()).decode()
    response = post_token(client, auth.tenant.tenant_id, form, headers={"Authorization": header})
    assert response.status_code == 200, response.text
    wrong = "Basic " + base64.b64encode(f"{auth.app.client_id}:nope".encode()).decode()
    response = post_token(client, auth.tenant.tenant_id, form, headers={"Authorization": wrong})
    assert_aad_error(response, 401, 7000215, "invalid_client")


def test_wrong_secret_is_7000215_and_echoes_client_request_id(
    client: httpx.Client, auth_emulator: AuthEmulator
) -> None:
    auth = auth_emulator.auth
    request_id = str(uuid.uuid4())
    # The classic mistake: the secret's ID pasted instead of its value.
    form = secret_form(auth.app.client_id, auth.app.secrets[0].key_id)
    response = post_token(
        client, auth.tenant.tenant_id, form, headers={"client-request-id": request_id}
    )
    message = assert_aad_error(response, 401, 7000215, "invalid_client")
    assert "client secret value, not the client secret ID" in message
    assert auth.app.client_id in message
    assert response.json()["correlation_id"] == request_id
    assert response.headers["client-request-id"] == request_id


def test_expired_secret_is_7000222(client: httpx.Client, auth_emulator: AuthEmulator) -> None:
    auth = auth_emulator.auth
    form = secret_form(auth.app.client_id, auth.expired_secret)
    message = assert_aad_error(
        post_token(client, auth.tenant.tenant_id, form), 401, 7000222, "invalid_client"
    )
    assert message.startswith(f"The provided client secret keys for app '{auth.app.client_id}'")


def test_no_credential_is_7000218(client: httpx.Client, auth_emulator: AuthEmulator) -> None:
    auth = auth_emulator.auth
    form = secret_form(auth.app.client_id, None)
    message = assert_aad_error(
        post_token(client, auth.tenant.tenant_id, form), 401, 7000218, "invalid_client"
    )
    assert "'client_assertion' or 'client_secret'" in message


def test_unknown_app_is_700016(client: httpx.Client, auth_emulator: AuthEmulator) -> None:
    auth = auth_emulator.auth
    stranger = next(iter(auth.other.apps))  # registered, but in the other tenant
    for client_id in (stranger, str(uuid.uuid4())):
        response = post_token(client, auth.tenant.tenant_id, secret_form(client_id, "x"))
        message = assert_aad_error(response, 400, 700016, "unauthorized_client")
        assert message.startswith(f"Application with identifier '{client_id}' was not found")


@pytest.mark.parametrize("tenant", ["3f0e1a55-0000-4000-8000-00000000beef", "nowhere.example.com"])
def test_unknown_tenant_is_90002(
    client: httpx.Client, auth_emulator: AuthEmulator, tenant: str
) -> None:
    form = secret_form(auth_emulator.auth.app.client_id, auth_emulator.auth.secret)
    message = assert_aad_error(post_token(client, tenant, form), 400, 90002, "invalid_tenant")
    assert message.startswith(f"Tenant '{tenant}' not found.")
    discovery = client.get(f"/{tenant}/v2.0/.well-known/openid-configuration")
    assert_aad_error(discovery, 400, 90002, "invalid_tenant")


@pytest.mark.parametrize("tenant", ["not_a_tenant", "contoso", "bad!name.com"])
def test_malformed_tenant_is_900023(
    client: httpx.Client, auth_emulator: AuthEmulator, tenant: str
) -> None:
    form = secret_form(auth_emulator.auth.app.client_id, auth_emulator.auth.secret)
    message = assert_aad_error(post_token(client, tenant, form), 400, 900023, "invalid_request")
    assert f"'{tenant}' is neither a valid DNS name" in message
    discovery = client.get(f"/{tenant}/v2.0/.well-known/openid-configuration")
    assert_aad_error(discovery, 400, 900023, "invalid_request")


def test_grant_type_and_scope_rules(client: httpx.Client, auth_emulator: AuthEmulator) -> None:
    auth = auth_emulator.auth
    tid = auth.tenant.tenant_id
    form = secret_form(auth.app.client_id, auth.secret) | {"grant_type": "password"}
    assert_aad_error(post_token(client, tid, form), 400, 70003, "unsupported_grant_type")
    form = secret_form(auth.app.client_id, auth.secret)
    del form["grant_type"]
    assert "'grant_type'" in assert_aad_error(
        post_token(client, tid, form), 400, 900144, "invalid_request"
    )
    form = secret_form(auth.app.client_id, auth.secret, scope="User.Read.All")
    message = assert_aad_error(post_token(client, tid, form), 400, 1002012, "invalid_scope")
    assert message.startswith("The provided value for scope User.Read.All is not valid.")
    two = f"{GRAPH_SCOPE} https://management.azure.com/.default"
    form = secret_form(auth.app.client_id, auth.secret, scope=two)
    assert_aad_error(post_token(client, tid, form), 400, 70011, "invalid_scope")
    form = secret_form(auth.app.client_id, auth.secret)
    del form["scope"]
    assert_aad_error(post_token(client, tid, form), 400, 900144, "invalid_request")
    assert_aad_error(client.get(token_url(tid)), 400, 900561, "invalid_request")


def test_without_admin_consent_the_token_has_no_roles(
    client: httpx.Client, auth_emulator: AuthEmulator
) -> None:
    auth = auth_emulator.auth
    form = secret_form(auth.unconsented.client_id, "x")
    response = post_token(client, auth.tenant.tenant_id, form)
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert "roles" not in claims_of(token)
    assert auth_emulator.issuer.verify(f"Bearer {token}").roles == frozenset()


# ---- discovery -----------------------------------------------------------------------------------


def test_openid_configuration_names_the_tenant_guid(
    client: httpx.Client, auth_emulator: AuthEmulator
) -> None:
    tid = auth_emulator.auth.tenant.tenant_id
    base = auth_emulator.base_url
    response = client.get("/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration")
    assert response.status_code == 200
    doc = response.json()
    assert doc["token_endpoint"] == f"{base}/{tid}/oauth2/v2.0/token"
    assert doc["authorization_endpoint"] == f"{base}/{tid}/oauth2/v2.0/authorize"
    assert doc["issuer"] == f"{base}/{tid}/v2.0"
    keys = client.get(doc["jwks_uri"].removeprefix(base)).json()["keys"]
    assert keys[0]["kid"] == auth_emulator.issuer.key_id
    instance = client.get(
        "/common/discovery/instance",
        params={
            "api-version": "1.1",
            "authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/authorize",
        },
    ).json()
    assert (
        instance["tenant_discovery_endpoint"]
        == f"{base}/{tid}/v2.0/.well-known/openid-configuration"
    )
    unknown = client.get(
        "/common/discovery/instance",
        params={"authorization_endpoint": "https://login.example.org/x/oauth2/v2.0/authorize"},
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_instance"


# ---- certificate credentials (client assertions) ---


def b64url(data: bytes, *, pad: bool) -> str:
    text = base64.urlsafe_b64encode(data).decode()
    return text if pad else text.rstrip("=")


def make_assertion(
    files: CertFiles,
    client_id: str,
    aud: str,
    *,
    alg: str = "RS256",
    pad: bool = False,
    x5c: bool = False,
    thumbprint: bool = True,
    exp_in: float = 600.0,
    nbf_in: float | None = None,
    signing_key: bytes | None = None,
    iss: str | None = None,
) -> str:
    now = time.time()
    claims: dict[str, Any] = {
        "aud": aud,
        "iss": iss or client_id,
        "sub": client_id,
        "jti": str(uuid.uuid4()),
        "iat": now,  # floats, as MSAL sends them
        "exp": now + exp_in,
    }
    if nbf_in is not None:
        claims["nbf"] = int(now + nbf_in)
    headers: dict[str, Any] = {"typ": "JWT"}
    if thumbprint and alg.startswith("PS"):
        headers["x5t#S256"] = b64url(bytes.fromhex(files.thumbprint_sha256), pad=pad)
    elif thumbprint:
        headers["x5t"] = b64url(bytes.fromhex(files.thumbprint_sha1), pad=pad)
    if x5c:
        der = ssl.PEM_cert_to_DER_cert(files.certificate_pem.decode())
        headers["x5c"] = [base64.b64encode(der).decode()]
    key = signing_key or files.private_key_pem
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


def assertion_form(client_id: str, assertion: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "scope": GRAPH_SCOPE,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }


@pytest.mark.parametrize(
    ("alg", "pad", "x5c", "thumbprint", "aud_tenant"),
    [
        ("RS256", False, False, True, "guid"),
        ("RS256", True, False, True, "domain"),
        ("PS256", True, True, True, "guid"),
        ("PS256", False, False, True, "guid"),
        ("PS256", False, True, False, "guid"),  # SN+I: only the certificate chain
    ],
)
def test_certificate_assertions_are_accepted(
    client: httpx.Client,
    auth_emulator: AuthEmulator,
    alg: str,
    pad: bool,
    x5c: bool,
    thumbprint: bool,
    aud_tenant: str,
) -> None:
    auth = auth_emulator.auth
    segment = auth.tenant.tenant_id if aud_tenant == "guid" else auth.tenant.domain
    aud = f"{auth_emulator.base_url}{token_url(segment)}"
    assertion = make_assertion(
        auth.certificate, auth.app.client_id, aud, alg=alg, pad=pad, x5c=x5c, thumbprint=thumbprint
    )
    for _ in range(2):  # MSAL reuses one assertion (same jti) for minutes: both must pass
        response = post_token(
            client, auth.tenant.tenant_id, assertion_form(auth.app.client_id, assertion)
        )
        assert response.status_code == 200, response.text
        assert claims_of(response.json()["access_token"])["appidacr"] == "2"


def test_assertion_failures(client: httpx.Client, auth_emulator: AuthEmulator) -> None:
    auth = auth_emulator.auth
    tid, cid = auth.tenant.tenant_id, auth.app.client_id
    aud = f"{auth_emulator.base_url}{token_url(tid)}"

    def send(assertion: str) -> httpx.Response:
        return post_token(client, tid, assertion_form(cid, assertion))

    message = assert_aad_error(
        send(make_assertion(auth.unregistered, cid, aud)), 401, 700027, "invalid_client"
    )
    assert f"Thumbprint of key used by client: '{auth.unregistered.thumbprint_sha1}'" in message
    assert "The key was not found." in message
    assert message.startswith("The certificate with identifier")
    forged = make_assertion(
        auth.certificate, cid, aud, signing_key=auth.unregistered.private_key_pem
    )
    message = assert_aad_error(send(forged), 401, 700027, "invalid_client")
    assert "The provided signature value did not match the expected signature value." in message
    message = assert_aad_error(
        send(make_assertion(auth.expired_certificate, cid, aud)), 401, 700027, "invalid_client"
    )
    assert "The key used is expired." in message
    message = assert_aad_error(
        send(make_assertion(auth.certificate, cid, aud, exp_in=-3600)),
        401,
        700024,
        "invalid_client",
    )
    assert "assertion valid from 1970-01-01T00:00:00.0000000Z" in message
    early = make_assertion(auth.certificate, cid, aud, nbf_in=3600, exp_in=4000)
    assert_aad_error(send(early), 401, 700024, "invalid_client")
    elsewhere = make_assertion(
        auth.certificate, cid, "https://login.microsoftonline.com/x/oauth2/v2.0/token"
    )
    assert_aad_error(send(elsewhere), 401, 700023, "invalid_client")
    other_iss = make_assertion(auth.certificate, cid, aud, iss=str(uuid.uuid4()))
    assert_aad_error(send(other_iss), 401, 700021, "invalid_client")
    assert_aad_error(send("not-a-jwt"), 400, 50027, "invalid_request")


# ---- access token lifetime and Graph-side verification ------------------------------------------


def test_short_lived_tokens_expire(make_emulator: EmulatorFactory, tmp_path: Path) -> None:
    auth = build_auth_world(tmp_path, token_lifetime_seconds=1)
    issuer = TokenIssuer(auth.world)
    running = make_emulator(auth.world, app=auth_app(auth.world, issuer))
    context = ssl.create_default_context(cafile=str(running.ca_bundle))
    with httpx.Client(base_url=running.base_url, verify=context, trust_env=False) as c:
        response = post_token(
            c, auth.tenant.tenant_id, secret_form(auth.app.client_id, auth.secret)
        )
    body = response.json()
    assert body["expires_in"] == 1
    header = f"Bearer {body['access_token']}"
    assert issuer.verify(header).app_id == auth.app.client_id  # now cached
    time.sleep(1.1)
    with pytest.raises(InvalidToken, match=r"^Access token has expired or is not yet valid\.$"):
        issuer.verify(header)


def test_graph_side_token_messages(auth_emulator: AuthEmulator) -> None:
    auth = auth_emulator.auth
    issuer = auth_emulator.issuer
    for header in (None, "", "Bearer ", "Basic abc"):
        with pytest.raises(InvalidToken, match=r"^Access token is empty\.$"):
            issuer.verify(header)
    with pytest.raises(
        InvalidToken, match=r"^CompactToken parsing failed with error code: 80049217$"
    ):
        issuer.verify("Bearer not.a-token")
    wrong_aud, _ = issuer.issue(auth.tenant, auth.app, "https://graph.windows.net")
    with pytest.raises(
        InvalidToken, match=r"^Access token validation failure\. Invalid audience\.$"
    ):
        issuer.verify(f"Bearer {wrong_aud}")
    foreign, _ = TokenIssuer(auth.world).issue(auth.tenant, auth.app, "https://graph.microsoft.com")
    with pytest.raises(InvalidToken, match=r"^Access token validation failure\.$"):
        issuer.verify(f"Bearer {foreign}")


def test_the_fault_injector_can_take_the_token_endpoint_down(
    make_emulator: EmulatorFactory, tmp_path: Path
) -> None:
    auth = build_auth_world(tmp_path)
    injector = FaultInjector(EmulatorOptions(faults="token-down#1"))  # once, then healthy
    running = make_emulator(auth.world, app=auth_app(auth.world, injector=injector))
    context = ssl.create_default_context(cafile=str(running.ca_bundle))
    form = secret_form(auth.app.client_id, auth.secret)
    with httpx.Client(base_url=running.base_url, verify=context, trust_env=False) as c:
        down = post_token(c, auth.tenant.tenant_id, form)
        assert_aad_error(down, 503, 90033, "temporarily_unavailable")
        assert post_token(c, auth.tenant.tenant_id, form).status_code == 200
