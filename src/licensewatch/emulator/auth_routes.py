"""Entra endpoints: OIDC discovery, instance discovery, signing keys and the v2.0 token endpoint."""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Awaitable, Callable
from typing import Protocol
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from licensewatch.emulator import errors_aad as aad
from licensewatch.emulator import signin
from licensewatch.emulator.apps import App
from licensewatch.emulator.state import Tenant, World, utcnow
from licensewatch.emulator.tokens import TokenIssuer, check_assertion

GUID = re.compile(r"^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$", re.IGNORECASE)
DNS_NAME = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$", re.IGNORECASE
)
MULTI_TENANT = frozenset({"common", "organizations", "consumers"})
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEFAULT_SUFFIX = "/.default"
# App-only tokens for the collector; interactive sign-in codes for the web app's SSO.
GRANT_TYPES = frozenset({"client_credentials", "authorization_code"})


class TokenFaults(Protocol):
    """What the routes need from the fault injector (faults.FaultInjector satisfies it)."""

    async def before_token_request(self, request: Request) -> Response | None: ...


Handler = Callable[[Request], Awaitable[Response]]


def base_url(request: Request) -> str:
    """scheme://host:port as the client addressed us (documents point back at that listener)."""
    return f"{request.url.scheme}://{request.url.netloc}"


def resolve_tenant(world: World, value: str) -> Tenant:
    """The tenant a path segment names, or the AADSTS error Entra gives for it."""
    if value.lower() in MULTI_TENANT:
        raise aad.AadError(
            50059,
            "invalid_request",
            400,
            "No tenant-identifying information found in either the request or implied by any "
            "provided "
            "credentials.",
        )
    if not GUID.match(value) and not DNS_NAME.match(value):
        raise aad.malformed_tenant(value)
    tenant = world.tenant(value)
    if tenant is None:
        raise aad.tenant_not_found(value)
    return tenant


def openid_configuration(base: str, tenant_segment: str, issuer_tenant: str) -> dict[str, object]:
    """The discovery document, shaped like the recorded real one.

    See learn.microsoft.com/entra/identity-platform/v2-protocols-oidc.
    """
    root = f"{base}/{tenant_segment}"
    return {
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/{issuer_tenant}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "tid", "ver"],
        "kerberos_endpoint": f"{root}/kerberos",
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


def _form(request: Request, body: bytes) -> dict[str, str]:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: Basic auth with form-encoded client id and secret."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except ValueError:
        return None
    user, sep, password = decoded.partition(":")
    return (unquote_plus(user), unquote_plus(password)) if sep else None


def _resource(scope: str) -> str:
    scopes = scope.split()
    for item in scopes:
        if not item.endswith(DEFAULT_SUFFIX):
            raise aad.scope_not_default(item)
    if len(scopes) != 1:  # client credentials serve one resource per request
        raise aad.invalid_scope(scope)
    return scopes[0][: -len(DEFAULT_SUFFIX)]


def check_secret(app: App, secret: str) -> None:
    """Any one of the app's unexpired secrets works; a match on an expired one gives 7000222."""
    now = utcnow()
    given = secret.encode()
    matches = [s for s in app.secrets if hmac.compare_digest(s.value.encode(), given)]
    if any(s.expires > now for s in matches):
        return
    raise aad.expired_secret(app.client_id) if matches else aad.invalid_secret(app.client_id)


def token_endpoint_urls(base: str, tenant: Tenant, segment: str) -> set[str]:
    """Every spelling of our token endpoint an assertion's `aud` may carry (GUID or domain)."""
    urls = set()
    for name in {tenant.tenant_id, tenant.domain, segment}:
        for path in ("oauth2/v2.0/token", "oauth2/token"):
            urls.add(f"{base}/{name}/{path}".lower())
    return urls


def auth_routes(
    world: World,
    issuer: TokenIssuer,
    injector: TokenFaults,
    sign_ins: signin.SignInState | None = None,
) -> list[BaseRoute]:
    """The Entra routes of the emulator; each first gives the fault injector a chance to answer."""
    sign_ins = sign_ins or signin.SignInState()

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            injected = await injector.before_token_request(request)
            if injected is not None:
                return injected
            try:
                return await handler(request)
            except aad.AadError as err:
                return aad.error_response(request, err)

        return endpoint

    async def discovery(request: Request) -> Response:
        segment = request.path_params["tenant"]
        if segment.lower() in MULTI_TENANT:
            document = openid_configuration(base_url(request), segment, "{tenantid}")
        else:
            tid = resolve_tenant(world, segment).tenant_id
            document = openid_configuration(base_url(request), tid, tid)
        headers = {"Cache-Control": "max-age=86400, private"}
        response = JSONResponse(document, headers=headers)
        response.headers["content-type"] = "application/json; charset=utf-8"
        return response

    async def keys(request: Request) -> Response:
        segment = request.path_params["tenant"]
        if segment.lower() not in MULTI_TENANT:
            resolve_tenant(world, segment)
        return JSONResponse(issuer.jwks())

    async def instance_discovery(request: Request) -> Response:
        endpoint = request.query_params.get("authorization_endpoint")
        if not endpoint:
            raise aad.missing_parameter("authorization_endpoint")
        parts = urlsplit(endpoint)
        # MSAL drops the port when it builds this URL, so only the host name must match.
        if parts.scheme != "https" or parts.hostname != request.url.hostname:
            raise aad.invalid_instance()
        segment = parts.path.strip("/").split("/")[0] or "common"
        host = request.url.netloc
        return JSONResponse(
            {
                "tenant_discovery_endpoint": (
                    f"{base_url(request)}/{segment}/v2.0/.well-known/openid-configuration"
                ),
                "api-version": "1.1",
                "metadata": [
                    {"preferred_network": host, "preferred_cache": host, "aliases": [host]}
                ],
            }
        )

    async def token_get(request: Request) -> Response:
        raise aad.get_not_allowed()

    async def token(request: Request) -> Response:
        segment = request.path_params["tenant"]
        form = _form(request, await request.body())
        code_tenant = sign_ins.tenant_of(form.get("code", ""))
        if segment.lower() in MULTI_TENANT and code_tenant is not None:
            segment = code_tenant  # a multi-tenant app redeems where the person signed in
        tenant = resolve_tenant(world, segment)
        basic = _basic_credentials(request)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise aad.missing_parameter("grant_type")
        if grant_type not in GRANT_TYPES:
            raise aad.unsupported_grant_type(grant_type)
        client_id = form.get("client_id") or (basic[0] if basic else "")
        if not client_id:
            raise aad.missing_parameter("client_id")
        scope = form.get("scope")
        if not scope and grant_type == "client_credentials":
            raise aad.missing_parameter("scope")
        resource = _resource(scope) if grant_type == "client_credentials" and scope else ""
        app = tenant.apps.get(client_id) or tenant.apps.get(client_id.lower())
        if app is None:
            raise aad.app_not_found(client_id, tenant.display_name)
        assertion = form.get("client_assertion")
        secret = form.get("client_secret") or (basic[1] if basic else None)
        if assertion:
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                raise aad.missing_parameter("client_assertion_type")
            check_assertion(assertion, app, token_endpoint_urls(base_url(request), tenant, segment))
            acr = "2"
        elif secret:
            check_secret(app, secret)
            acr = "1"
        else:
            raise aad.no_credential()
        if grant_type == "authorization_code":
            return signin.redeem_code(request, form, tenant, app, world, issuer, sign_ins)
        access_token, expires_in = issuer.issue(tenant, app, resource, appidacr=acr)
        body: dict[str, object] = {
            "token_type": "Bearer",
            "expires_in": expires_in,
            "ext_expires_in": expires_in,
            "access_token": access_token,
        }
        return aad.json_response(request, body)

    return [
        Route(
            "/{tenant}/v2.0/.well-known/openid-configuration", guarded(discovery), methods=["GET"]
        ),
        Route("/{tenant}/.well-known/openid-configuration", guarded(discovery), methods=["GET"]),
        Route("/{tenant}/discovery/v2.0/keys", guarded(keys), methods=["GET"]),
        Route("/{tenant}/discovery/keys", guarded(keys), methods=["GET"]),
        Route("/{tenant}/discovery/instance", guarded(instance_discovery), methods=["GET"]),
        Route("/{tenant}/oauth2/v2.0/token", guarded(token), methods=["POST"]),
        Route("/{tenant}/oauth2/v2.0/token", guarded(token_get), methods=["GET"]),
    ]
