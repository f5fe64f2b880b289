"""Interactive sign-in (OIDC authorization code flow with PKCE): codes and ID tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from licensewatch.emulator import errors_aad as aad
from licensewatch.emulator.apps import App
from licensewatch.emulator.errors_aad import AadError
from licensewatch.emulator.state import Tenant, User, World
from licensewatch.emulator.tokens import TokenIssuer

CODE_LIFETIME_SECONDS = 600  # Entra's authorization codes live about ten minutes
# Past this many groups a JWT carries an overage pointer instead of the list (Entra's limit).
GROUPS_LIMIT = 200
ID_TOKEN_FAULTS = frozenset({"signature", "audience", "issuer", "nonce", "expired"})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def redirect_mismatch(redirect_uri: str, client_id: str) -> AadError:
    return AadError(
        50011,
        "invalid_request",
        400,
        f"The redirect URI '{redirect_uri}' specified in the request does not match the redirect "
        f"URIs configured for the application '{client_id}'. Make sure the redirect URI sent in "
        "the request matches one added to your application in the Azure portal. Navigate to "
        "https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
    )


def verifier_mismatch() -> AadError:
    return AadError(
        501481,
        "invalid_grant",
        400,
        "The Code_Verifier does not match the code_challenge supplied in the authorization "
        "request.",
    )


def code_redeemed() -> AadError:
    return AadError(
        54005,
        "invalid_grant",
        400,
        "OAuth2 Authorization code was already redeemed, please retry with a new valid code or "
        "use an existing refresh token.",
    )


def code_invalid() -> AadError:
    return AadError(
        70008,
        "invalid_grant",
        400,
        "The provided authorization code or refresh token has expired due to inactivity. Send a "
        "new interactive authorization request for this user and resource.",
    )


def unknown_app(client_id: str, directory: str) -> AadError:
    return AadError(
        700016,
        "unauthorized_client",
        400,
        f"Application with identifier '{client_id}' was not found in the directory '{directory}'.",
    )


def wrong_password() -> AadError:
    return AadError(
        50126,
        "invalid_grant",
        400,
        "Error validating credentials due to invalid username or password.",
    )


@dataclass
class PendingCode:
    tenant_id: str
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    user_id: str
    expires: float
    redeemed: bool = False


@dataclass
class SignInState:
    """Codes handed out and not yet expired, plus the test hook that spoils the next ID token."""

    codes: dict[str, PendingCode] = field(default_factory=dict)
    id_token_fault: str | None = None

    def new_code(self, entry: PendingCode) -> str:
        now = time.time()
        for key in [k for k, c in self.codes.items() if c.expires < now - 3600]:
            del self.codes[key]
        code = secrets.token_urlsafe(48)
        self.codes[code] = entry
        return code

    def tenant_of(self, code: str) -> str | None:
        """The tenant a code was issued in (multi-tenant apps redeem at /organizations)."""
        entry = self.codes.get(code)
        return entry.tenant_id if entry is not None else None

    def redeem(self, code: str, client_id: str, redirect_uri: str, verifier: str) -> PendingCode:
        entry = self.codes.get(code)
        if entry is None or entry.client_id != client_id or entry.expires < time.time():
            raise code_invalid()
        if entry.redeemed:
            raise code_redeemed()
        entry.redeemed = True  # one try only, even when a check below fails
        if redirect_uri != entry.redirect_uri:
            raise redirect_mismatch(redirect_uri, client_id)
        expected = _b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
        if not verifier or not hmac.compare_digest(expected, entry.challenge):
            raise verifier_mismatch()
        return entry


def check_authorize(tenant: Tenant, params: dict[str, str]) -> App:
    """The app the request names, with Entra's checks of redirect URI, response type and PKCE."""
    client_id = params.get("client_id", "")
    app = tenant.apps.get(client_id)
    if app is None:
        raise unknown_app(client_id, tenant.display_name)
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in app.redirect_uris:
        raise redirect_mismatch(redirect_uri, client_id)
    if params.get("response_type") != "code":
        raise AadError(
            900144,
            "invalid_request",
            400,
            "The request body must contain the following parameter: 'response_type'.",
        )
    if "openid" not in params.get("scope", "").split():
        raise AadError(
            900144,
            "invalid_request",
            400,
            "The request body must contain the following parameter: 'scope' with 'openid'.",
        )
    return app


def error_page(err: AadError) -> HTMLResponse:
    """What Entra shows in the browser when it cannot send the user back to the app."""
    text = html.escape(f"AADSTS{err.code}: {err.message}")
    body = (
        "<!doctype html><title>Sign in</title>"
        f"<h1>Sorry, but we're having trouble signing you in.</h1><p id=error>{text}</p>"
    )
    return HTMLResponse(body, status_code=err.status)


_FORM = """<!doctype html><html><head><title>Sign in to your account</title></head><body>
<h1>Sign in</h1><p>{app}</p>{error}
<form method="post" action="">
{hidden}
<label>Email, phone, or Skype <input name="login" id="login" autocomplete="username"></label>
<label>Password <input name="passwd" id="passwd" type="password"></label>
<button type="submit" id="idSIButton9">Sign in</button>
</form></body></html>"""

# What the authorize request carries through the sign-in form to the redirect.
_CARRIED = (
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
)


def sign_in_form(app: App, params: dict[str, str], error: str | None = None) -> HTMLResponse:
    hidden = "\n".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params[name])}">'
        for name in _CARRIED
        if name in params
    )
    message = f'<p id="error">{html.escape(error)}</p>' if error else ""
    page = _FORM.format(app=html.escape(app.display_name), error=message, hidden=hidden)
    return HTMLResponse(page, status_code=200 if error is None else 400)


def find_person(tenant: Tenant, login: str, password: str) -> User | None:
    user = tenant.user(login.strip())
    if user is None or user.password is None or not user.account_enabled:
        return None
    return user if hmac.compare_digest(user.password.encode(), password.encode()) else None


def back_to_app(params: dict[str, str], code: str) -> Response:
    """The redirect to the app with the code and the state, in the response mode asked for."""
    answer = {"code": code, "state": params.get("state", ""), "session_state": str(uuid.uuid4())}
    if params.get("response_mode") == "form_post":
        fields = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in answer.items()
        )
        target = html.escape(params["redirect_uri"])
        page = (
            '<!doctype html><body onload="document.forms[0].submit()">'
            f'<form method="post" action="{target}">{fields}</form></body>'
        )
        return HTMLResponse(page)
    separator = "&" if "?" in params["redirect_uri"] else "?"
    return RedirectResponse(params["redirect_uri"] + separator + urlencode(answer), 302)


def member_group_ids(tenant: Tenant, user: User) -> list[str]:
    return sorted(g.id for g in tenant.groups.values() if user.id in g.member_ids)


def role_values(app: App, user: User, groups: list[str]) -> list[str]:
    """App roles assigned to the user directly or through one of its groups."""
    found: set[str] = set(app.role_assignments.get(user.id, set()))
    for group_id in groups:
        found |= app.role_assignments.get(group_id, set())
    return sorted(found)


def id_token_claims(
    base: str, tenant: Tenant, app: App, user: User, nonce: str | None, lifetime: int
) -> dict[str, Any]:
    """A v2.0 ID token's claims: roles, and groups (or the overage pointer past the limit)."""
    now = int(time.time())
    groups = member_group_ids(tenant, user)
    claims: dict[str, Any] = {
        "aud": app.client_id,
        "iss": f"{base}/{tenant.tenant_id}/v2.0",
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "name": user.display_name,
        "oid": user.id,
        "preferred_username": user.user_principal_name,
        "sub": _b64url(hashlib.sha256(f"{user.id}:{app.client_id}".encode()).digest()),
        "tid": tenant.tenant_id,
        "uti": _b64url(uuid.uuid4().bytes),
        "ver": "2.0",
    }
    if nonce is not None:
        claims["nonce"] = nonce
    roles = role_values(app, user, groups)
    if roles:
        claims["roles"] = roles
    if len(groups) > GROUPS_LIMIT:
        claims["_claim_names"] = {"groups": "src1"}
        claims["_claim_sources"] = {
            "src1": {
                "endpoint": f"https://graph.microsoft.com/v1.0/users/{user.id}/getMemberObjects"
            }
        }
    elif groups:
        claims["groups"] = groups
    return claims


def spoil(claims: dict[str, Any], fault: str) -> dict[str, Any]:
    """A test hook: one thing wrong with the ID token (the signature is spoilt by the signer)."""
    spoilt = dict(claims)
    if fault == "audience":
        spoilt["aud"] = str(uuid.uuid4())
    elif fault == "issuer":
        spoilt["iss"] = f"https://login.microsoftonline.com/{uuid.uuid4()}/v2.0"
    elif fault == "nonce":
        spoilt["nonce"] = secrets.token_urlsafe(16)
    elif fault == "expired":
        spoilt["iat"] = spoilt["nbf"] = int(time.time()) - 7200
        spoilt["exp"] = int(time.time()) - 3600
    return spoilt


def redeem_code(
    request: Request,
    form: dict[str, str],
    tenant: Tenant,
    app: App,
    world: World,
    issuer: TokenIssuer,
    state: SignInState,
) -> Response:
    """The token response of an authorization_code grant, after the client authenticated."""
    code = form.get("code")
    if not code:
        raise aad.missing_parameter("code")
    entry = state.redeem(
        code, app.client_id, form.get("redirect_uri", ""), form.get("code_verifier", "")
    )
    user = tenant.user(entry.user_id)
    if user is None or entry.tenant_id != tenant.tenant_id:
        raise code_invalid()
    base = f"{request.url.scheme}://{request.url.netloc}"
    lifetime = world.token_lifetime_seconds
    claims = id_token_claims(base, tenant, app, user, entry.nonce, lifetime)
    fault, state.id_token_fault = state.id_token_fault, None
    if fault is not None:
        claims = spoil(claims, fault)
    id_token = issuer.sign(claims, foreign_key=fault == "signature")
    access_token = issuer.sign(
        {
            "aud": "00000003-0000-0000-c000-000000000000",
            "iss": f"https://sts.windows.net/{tenant.tenant_id}/",
            "exp": int(time.time()) + lifetime,
            "oid": user.id,
            "scp": "openid profile email",
            "tid": tenant.tenant_id,
        }
    )
    body: dict[str, object] = {
        "token_type": "Bearer",
        "scope": "openid profile email",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
        "id_token": id_token,
    }
    return aad.json_response(request, body)
