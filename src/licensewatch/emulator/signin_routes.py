"""Route of interactive sign-in: the authorize page (the token endpoint redeems its codes)."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from licensewatch.emulator import errors_aad as aad
from licensewatch.emulator import signin
from licensewatch.emulator.auth_routes import MULTI_TENANT, resolve_tenant
from licensewatch.emulator.sso_setup import add_sso_app
from licensewatch.emulator.state import Tenant, World


async def _form_fields(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def signin_routes(world: World, state: signin.SignInState) -> list[BaseRoute]:
    """GET shows the sign-in form; POST checks the person and sends the browser back with a code."""

    def tenant_for(segment: str, client_id: str, login: str | None) -> Tenant:
        """The tenant named in the path; for `organizations`, the person's (or the app's home)."""
        if segment.lower() not in MULTI_TENANT:
            return resolve_tenant(world, segment)
        for tenant in world.tenants.values():
            if (login and tenant.user(login.strip())) or (not login and client_id in tenant.apps):
                return tenant
        raise signin.unknown_app(client_id, "organizations")

    async def authorize(request: Request) -> Response:
        segment = request.path_params["tenant"]
        try:
            if request.method == "GET":
                params = dict(request.query_params)
                tenant = tenant_for(segment, params.get("client_id", ""), None)
                app = signin.check_authorize(tenant, params)
                if params.get("code_challenge_method", "S256") != "S256" or not params.get(
                    "code_challenge"
                ):
                    # licensewatch always sends PKCE; Entra would accept a plain flow.
                    raise aad.missing_parameter("code_challenge")
                return signin.sign_in_form(app, params)
            params = await _form_fields(request)
            tenant = tenant_for(segment, params.get("client_id", ""), params.get("login"))
            app = signin.check_authorize(tenant, params)
        except aad.AadError as err:
            return signin.error_page(err)
        person = signin.find_person(tenant, params.get("login", ""), params.get("passwd", ""))
        if person is None:
            return signin.sign_in_form(app, params, str(signin.wrong_password().message))
        entry = signin.PendingCode(
            tenant_id=tenant.tenant_id,
            client_id=app.client_id,
            redirect_uri=params["redirect_uri"],
            challenge=params.get("code_challenge", ""),
            nonce=params.get("nonce"),
            user_id=person.id,
            expires=time.time() + signin.CODE_LIFETIME_SECONDS,
        )
        return signin.back_to_app(params, state.new_code(entry))

    async def register_app(request: Request) -> Response:
        """Control API: the licensewatch web app registration and people to sign in as."""
        tenant = world.tenant(request.path_params["tenant"])
        body = orjson.loads(await request.body() or b"{}")
        uris = body.get("redirect_uris") if isinstance(body, dict) else None
        if tenant is None or not isinstance(uris, list):
            return JSONResponse({"error": "unknown tenant or no redirect_uris list"}, 400)
        return JSONResponse(add_sso_app(tenant, [str(u) for u in uris]).to_dict())

    async def id_token_fault(request: Request) -> Response:
        """Control API: the next ID token has one thing wrong (tests of the app's checks)."""
        body = orjson.loads(await request.body() or b"{}")
        fault = body.get("fault") if isinstance(body, dict) else None
        if fault is not None and fault not in signin.ID_TOKEN_FAULTS:
            choices = ", ".join(sorted(signin.ID_TOKEN_FAULTS))
            return JSONResponse({"error": f"fault must be one of {choices} or null"}, 400)
        state.id_token_fault = fault
        return JSONResponse({"fault": fault})

    return [
        Route("/{tenant}/oauth2/v2.0/authorize", authorize, methods=["GET", "POST"]),
        Route("/_emulator/tenants/{tenant}/sso-app", register_app, methods=["POST"]),
        Route("/_emulator/sso/id-token-fault", id_token_fault, methods=["POST"]),
    ]
