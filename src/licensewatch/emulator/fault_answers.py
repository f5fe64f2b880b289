"""The answers of the resilience faults: Graph 5xx, expired page tokens, sign-in 403, delta
resync codes, and the Entra token errors a real tenant can send (docs/emulator.md)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from licensewatch.emulator.errors_aad import AadError
from licensewatch.emulator.graph.errors import error_response

GRAPH_5XX = {
    "500": (500, "generalException", "An unspecified error has occurred."),
    "502": (502, "BadGateway", "The server received an invalid response from an upstream server."),
}
DELTA_RESYNC_CODES = {
    "syncStateNotFound": (
        "The sync state generation is not found. The delta token is expired and data must be "
        "synchronized again."
    ),
    "resyncRequired": "The delta token is no longer valid, and the app must reset the sync state.",
}


def graph_5xx(request: Request, kind: str, retry_after: str | None) -> Response:
    status, code, message = GRAPH_5XX[kind]
    headers = {"Retry-After": retry_after} if retry_after else None
    return error_response(request, status, code, message, headers)


def expired_page_token(request: Request) -> Response:
    """What the directory answers a `$skiptoken` it no longer holds (seen on long reads)."""
    return error_response(
        request,
        400,
        "Directory_ExpiredPageToken",
        "The specified page token value has expired and can no longer be included in your request.",
    )


def sign_in_forbidden(request: Request) -> Response:
    """The signInActivity 403 that real tenants report intermittently, on any page."""
    return error_response(
        request,
        403,
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "Neither tenant is B2C or tenant doesn't have premium license",
    )


def delta_resync(request: Request, code: str | None) -> Response:
    """A delta token refused with 400 and one of Graph's resync codes (not a 410)."""
    chosen = code if code in DELTA_RESYNC_CODES else "syncStateNotFound"
    return error_response(request, 400, chosen, DELTA_RESYNC_CODES[chosen])


def wants_sign_in(request: Request) -> bool:
    params = request.query_params
    return any("signinactivity" in params.get(name, "").lower() for name in ("$select", "$filter"))


def continues_delta(request: Request) -> bool:
    """A delta request that carries a token of an earlier round (not the first, not "latest")."""
    if not request.url.path.endswith("/delta"):
        return False
    params = request.query_params
    token = params.get("$deltatoken")
    return bool(params.get("$skiptoken")) or bool(token and token.lower() != "latest")


def is_token_request(request: Request) -> bool:
    """The token endpoint itself (OIDC discovery answers as usual)."""
    return request.url.path.endswith("/token")


# ---- Entra token errors (wording: Microsoft's AADSTS reference and recorded answers) --------


def token_error(code: str | None, request: Request) -> AadError:
    """The AADSTS error of `token-error=CODE` (7000112, 53003, 500011, 90038)."""
    tenant = request.path_params.get("tenant", "the tenant")
    if code == "7000112":
        return AadError(7000112, "unauthorized_client", 400, "The application is disabled.")
    if code == "53003":
        return AadError(
            53003,
            "invalid_grant",
            400,
            "Access has been blocked by Conditional Access policies. The access policy does not "
            "allow token issuance.",
        )
    if code == "500011":
        return AadError(
            500011,
            "invalid_resource",
            400,
            "The resource principal named https://graph.microsoft.com was not found in the tenant "
            f"named {tenant}. This can happen if the application has not been installed by the "
            "administrator of the tenant or consented to by any user in the tenant. You might "
            "have sent your authentication request to the wrong tenant.",
        )
    if code == "90038":
        return AadError(
            90038,
            "invalid_request",
            400,
            f"Tenant '{tenant}' belongs to the National Cloud 'USGov'. Current cloud instance "
            "'Prod' does not federate with 'USGov'. A cloud redirect error is returned.",
        )
    raise ValueError(f"token-error supports 7000112, 53003, 500011 and 90038, not {code!r}")


def token_throttled() -> AadError:
    """ESTS throttling (TenantThrottlingError): transient, answered with 429 and Retry-After."""
    return AadError(90055, "temporarily_unavailable", 429, "There are too many incoming requests.")
