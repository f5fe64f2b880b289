"""Entra (AADSTS) error bodies exactly as the token endpoint sends them."""

# Codes: learn.microsoft.com/entra/identity-platform/reference-error-codes

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse

# Every token endpoint answer (success or error) carries these headers, as Entra's do: no caching
# (RFC 6749 §5.1 requires it of token responses) and Entra's server header (docs/emulator.md, §1).
NO_STORE_HEADERS = {
    "Cache-Control": "no-store, no-cache",
    "Pragma": "no-cache",
    "Expires": "-1",
    "x-ms-ests-server": "2.1.0 - licensewatch emulator",
}
CERT_DOCS = "https://learn.microsoft.com/entra/identity-platform/certificate-credentials"


@dataclass(eq=False)  # not frozen: raising sets __traceback__ and friends
class AadError(Exception):
    """One AADSTS failure: numeric code, OAuth `error` value, HTTP status and the message text."""

    code: int
    error: str
    status: int
    message: str


def json_response(request: Request, body: dict[str, object], status: int = 200) -> JSONResponse:
    """A JSON answer with the token endpoint's headers, echoing the caller's client-request-id."""
    headers = dict(NO_STORE_HEADERS)
    headers["x-ms-request-id"] = str(uuid.uuid4())
    client_request_id = request.headers.get("client-request-id")
    if client_request_id:
        headers["client-request-id"] = client_request_id
    response = JSONResponse(body, status_code=status, headers=headers)
    response.headers["content-type"] = "application/json; charset=utf-8"
    return response


def error_body(err: AadError, correlation_id: str | None = None) -> dict[str, object]:
    """The error JSON; the description repeats trace id, correlation id and time after CRLFs."""
    trace_id = str(uuid.uuid4())
    correlation = correlation_id or str(uuid.uuid4())
    timestamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    description = (
        f"AADSTS{err.code}: {err.message}\r\nTrace ID: {trace_id}\r\n"
        f"Correlation ID: {correlation}\r\nTimestamp: {timestamp}"
    )
    return {
        "error": err.error,
        "error_description": description,
        "error_codes": [err.code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation,
        "error_uri": f"https://login.microsoftonline.com/error?code={err.code}",
    }


def error_response(request: Request, err: AadError) -> JSONResponse:
    return json_response(
        request, error_body(err, request.headers.get("client-request-id")), err.status
    )


# ---- the codes the emulator produces; wording from recorded responses where one exists ---


def missing_parameter(name: str) -> AadError:
    return AadError(
        900144,
        "invalid_request",
        400,
        f"The request body must contain the following parameter: '{name}'.",
    )


def unsupported_grant_type(grant_type: str) -> AadError:
    return AadError(
        70003,
        "unsupported_grant_type",
        400,
        f"The app requested an unsupported grant type '{grant_type}'.",
    )


def get_not_allowed() -> AadError:
    return AadError(
        900561,
        "invalid_request",
        400,
        "The endpoint only accepts POST, OPTIONS requests. Received a GET request.",
    )


def malformed_tenant(value: str) -> AadError:
    return AadError(
        900023,
        "invalid_request",
        400,
        f"Specified tenant identifier '{value}' is neither a valid DNS name, nor a valid external "
        "domain.",
    )


def tenant_not_found(value: str) -> AadError:
    return AadError(
        90002,
        "invalid_tenant",
        400,
        f"Tenant '{value}' not found. Check to make sure you have the correct tenant ID and are "
        "signing "
        "into the correct cloud. Check with your subscription administrator, this may happen if "
        "there are "
        "no active subscriptions for the tenant.",
    )


def scope_not_default(scope: str) -> AadError:
    return AadError(
        1002012,
        "invalid_scope",
        400,
        f"The provided value for scope {scope} is not valid. Client credential flows must have a "
        "scope "
        "value with /.default suffixed to the resource identifier (application ID URI).",
    )


def invalid_scope(scope: str) -> AadError:
    return AadError(
        70011,
        "invalid_scope",
        400,
        f"The provided value for the input parameter 'scope' is not valid. The scope {scope} is "
        "not valid.",
    )


def app_not_found(client_id: str, directory: str) -> AadError:
    return AadError(
        700016,
        "unauthorized_client",
        400,
        f"Application with identifier '{client_id}' was not found in the directory '{directory}'. "
        "This can "
        "happen if the application has not been installed by the administrator of the tenant or "
        "consented "
        "to by any user in the tenant. You may have sent your authentication request to the "
        "wrong tenant.",
    )


def no_credential() -> AadError:
    return AadError(
        7000218,
        "invalid_client",
        401,
        "The request body must contain the following parameter: 'client_assertion' or "
        "'client_secret'.",
    )


def invalid_secret(client_id: str) -> AadError:
    return AadError(
        7000215,
        "invalid_client",
        401,
        "Invalid client secret provided. Ensure the secret being sent in the request is the "
        "client secret "
        f"value, not the client secret ID, for a secret added to app '{client_id}'.",
    )


def expired_secret(client_id: str) -> AadError:
    return AadError(
        7000222,
        "invalid_client",
        401,
        f"The provided client secret keys for app '{client_id}' are expired. Visit the Azure "
        "portal to "
        "create new keys for your app: https://aka.ms/NewClientSecret, or consider using "
        "certificate "
        "credentials for added security: https://aka.ms/certCreds.",
    )


def malformed_assertion() -> AadError:
    return AadError(50027, "invalid_request", 400, "JWT token is invalid or malformed.")


def key_problem(client_id: str, thumbprint: str, reason: str, *, not_registered: bool) -> AadError:
    """700027: the assertion's key is unknown, expired, or its signature does not verify."""
    lead = (
        "The certificate with identifier used to sign the client assertion is not registered on "
        "application."
        if not_registered
        else "Client assertion contains an invalid signature."
    )
    return AadError(
        700027,
        "invalid_client",
        401,
        f"{lead} [Reason - {reason}, Thumbprint of key used by client: '{thumbprint}', Please "
        "visit the "
        "Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id "
        f"'{client_id}'. Review the documentation at "
        "https://docs.microsoft.com/en-us/graph/deployments if "
        "your application is hosted in a national cloud.]",
    )


def _ests_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0Z"


def assertion_time(now: float, valid_from: float, expires: float) -> AadError:
    def at(ts: float) -> str:
        return _ests_time(datetime.fromtimestamp(ts, UTC))

    return AadError(
        700024,
        "invalid_client",
        401,
        f"Client assertion is not within its valid time range. Current time: {at(now)}, assertion "
        "valid "
        f"from {at(valid_from)}, expiry time of assertion {at(expires)}. Review the documentation "
        "at "
        f"{CERT_DOCS}",
    )


def assertion_audience() -> AadError:
    return AadError(
        700023,
        "invalid_client",
        401,
        "Client assertion audience claim does not match Realm issuer. Review the documentation at "
        ""
        "https://docs.microsoft.com/azure/active-directory/develop/"
        "active-directory-certificate-credentials .",
    )


def assertion_issuer() -> AadError:
    return AadError(
        700021,
        "invalid_client",
        401,
        "Client assertion application identifier doesn't match 'client_id' parameter. Review the "
        f"documentation at {CERT_DOCS}",
    )


def invalid_instance() -> AadError:
    return AadError(
        50049,
        "invalid_instance",
        400,
        "Unknown or invalid instance.",
    )
