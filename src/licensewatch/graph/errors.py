"""Failures: Graph errors with status, code and request ids; Entra token failures."""

# Graph's error shape: learn.microsoft.com/graph/errors

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

# "Calling principal does not have required MSGraph permissions AuditLog.Read.All"
_PERMISSION_IN_MESSAGE = re.compile(r"permissions?\s+([A-Z][A-Za-z]+(?:\.[A-Za-z]+)+)")
# What our endpoints need when Graph does not say (app-only, least privilege for this product).
_PERMISSION_BY_PATH = (
    ("/users/delta", "User.Read.All"),
    ("/users", "User.Read.All"),
    ("/groups", "Directory.Read.All"),
    ("/subscribedSkus", "Directory.Read.All"),
    ("/directory/subscriptions", "Directory.Read.All"),
    ("/organization", "Directory.Read.All"),
)
# 403 codes whose cause is not a permission (signInActivity without Entra ID P1/P2).
_NOT_A_PERMISSION = frozenset({"Authentication_RequestFromNonPremiumTenantOrB2CTenant"})


class GraphError(Exception):
    """A failed Graph request; `str()` always names the request-id for Microsoft support."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        client_request_id: str | None = None,
        url: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.url = url
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [f"HTTP {self.status}" if self.status is not None else "no response"]
        if self.code:
            parts.append(self.code)
        parts.append(f"request-id {self.request_id or 'none'}")
        if self.client_request_id:
            parts.append(f"client-request-id {self.client_request_id}")
        where = f" on {_path(self.url)}" if self.url else ""
        return f"{self.message}{where} ({'; '.join(parts)})"


class GraphAuthorizationError(GraphError):
    """403: the app lacks an application permission (or admin consent, or a premium licence)."""

    def __init__(self, message: str, *, missing_permission: str | None = None, **kw: Any) -> None:
        self.missing_permission = missing_permission
        super().__init__(message, **kw)


class GraphThrottledError(GraphError):
    """Still throttled (429) when the retry budget ran out."""


class GraphUnavailableError(GraphError):
    """Graph answered 5xx or was unreachable (connect/read error, reset, timeout) after retries."""


class GraphProtocolError(GraphError):
    """Graph's answer is unusable: truncated or garbled JSON, a repeated or foreign nextLink."""


class DeltaTokenExpired(GraphError):
    """410 Gone: the delta token expired; do a full sync (`location` is the fresh query)."""

    def __init__(self, message: str, *, location: str | None = None, **kw: Any) -> None:
        self.location = location
        super().__init__(message, **kw)


def _path(url: str | None) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    return parts.path or url


def infer_permission(url: str | None, message: str, code: str | None = None) -> str | None:
    """The application permission a 403 points at: named in the message, else the path's."""
    if code in _NOT_A_PERMISSION:
        return None
    match = _PERMISSION_IN_MESSAGE.search(message)
    if match:
        return match.group(1)
    if url and "signinactivity" in (urlsplit(url).query or "").lower():
        return "AuditLog.Read.All"
    path = _path(url)
    for marker, permission in _PERMISSION_BY_PATH:
        if f"/v1.0{marker}" in path or path.startswith(marker):
            return permission
    return None


def parse_error_body(body: bytes) -> tuple[str | None, str | None]:
    """(code, message) from Graph's `{"error": {"code", "message"}}` body, or (None, None)."""
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None, None
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, None
    code, message = error.get("code"), error.get("message")
    return (code if isinstance(code, str) else None, message if isinstance(message, str) else None)


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    url: str,
    client_request_id: str | None = None,
    *,
    note: str = "",
) -> GraphError:
    """The GraphError subclass for an HTTP error response (no retry decisions here)."""
    headers = headers if isinstance(headers, httpx.Headers) else httpx.Headers(dict(headers))
    code, message = parse_error_body(body)
    text = (message or body[:200].decode("utf-8", "replace").strip() or f"HTTP {status}") + note
    kw: dict[str, Any] = {
        "status": status,
        "code": code,
        "request_id": headers.get("request-id"),
        "client_request_id": headers.get("client-request-id") or client_request_id,
        "url": url,
    }
    if status == 403:
        return GraphAuthorizationError(
            text, missing_permission=infer_permission(url, message or "", code), **kw
        )
    if status == 410:
        return DeltaTokenExpired(text, location=headers.get("location"), **kw)
    if status == 429:
        return GraphThrottledError(text, **kw)
    if status >= 500:
        return GraphUnavailableError(text, **kw)
    return GraphError(text, **kw)


# ---- token failures (Entra ID) ------------------------------------------------------------------
class AuthFailure(StrEnum):
    TENANT_NOT_FOUND = "tenant_not_found"
    TENANT_MALFORMED = "tenant_malformed"
    APP_NOT_FOUND = "app_not_found"
    WRONG_SECRET = "wrong_secret"  # noqa: S105 - a failure kind, not a password
    EXPIRED_SECRET = "expired_secret"  # noqa: S105 - a failure kind, not a password
    NO_CREDENTIAL = "no_credential"
    CERTIFICATE_NOT_REGISTERED = "certificate_not_registered"
    ASSERTION_EXPIRED = "assertion_expired"
    INVALID_SCOPE = "invalid_scope"
    NETWORK = "network"
    TLS = "tls"
    SERVICE = "service"
    UNKNOWN = "unknown"


TRANSIENT_FAILURES = frozenset({AuthFailure.NETWORK, AuthFailure.SERVICE})

KIND_BY_AADSTS = {
    90002: AuthFailure.TENANT_NOT_FOUND,
    900023: AuthFailure.TENANT_MALFORMED,
    700016: AuthFailure.APP_NOT_FOUND,
    7000229: AuthFailure.APP_NOT_FOUND,
    7000215: AuthFailure.WRONG_SECRET,
    7000222: AuthFailure.EXPIRED_SECRET,
    7000218: AuthFailure.NO_CREDENTIAL,
    700027: AuthFailure.CERTIFICATE_NOT_REGISTERED,
    700024: AuthFailure.ASSERTION_EXPIRED,
    70011: AuthFailure.INVALID_SCOPE,
    1002012: AuthFailure.INVALID_SCOPE,
}
KIND_BY_ERROR = {
    "invalid_tenant": AuthFailure.TENANT_NOT_FOUND,
    "invalid_scope": AuthFailure.INVALID_SCOPE,
    "temporarily_unavailable": AuthFailure.SERVICE,
}
_APP = "Entra ID > App registrations > <app>"
_UPDATE = "licensewatch tenant update NAME"
FIXES = {
    AuthFailure.TENANT_NOT_FOUND: (
        "Check the Directory (tenant) ID on Entra ID > Overview and the cloud the tenant lives in "
        f"({{cloud}} is configured), then run `{_UPDATE} --tenant-id ID` (or `--cloud CLOUD`)."
    ),
    AuthFailure.TENANT_MALFORMED: (
        "Enter the Directory (tenant) ID (a GUID from Entra ID > Overview) or a verified domain "
        f"such as contoso.onmicrosoft.com: `{_UPDATE} --tenant-id ID`."
    ),
    AuthFailure.APP_NOT_FOUND: (
        f"Copy the Application (client) ID from {_APP} > Overview of an app registered in tenant "
        "{tenant} (a multi-tenant app needs admin consent there), then run "
        f"`{_UPDATE} --client-id ID`."
    ),
    AuthFailure.WRONG_SECRET: (
        f"Copy the secret's Value (not its Secret ID) from {_APP} > Certificates & secrets, "
        f"then run `{_UPDATE} --client-secret-stdin`."
    ),
    AuthFailure.EXPIRED_SECRET: (
        f"Create a new client secret in {_APP} > Certificates & secrets, copy its Value, "
        f"then run `{_UPDATE} --client-secret-stdin`."
    ),
    AuthFailure.NO_CREDENTIAL: (
        f"Give the tenant a client secret or certificate: `{_UPDATE} --client-secret-stdin`."
    ),
    AuthFailure.CERTIFICATE_NOT_REGISTERED: (
        f"Upload the certificate (thumbprint {{thumbprint}}) in {_APP} > Certificates & secrets > "
        f"Certificates, or give the uploaded one: `{_UPDATE} --certificate FILE`."
    ),
    AuthFailure.ASSERTION_EXPIRED: (
        "Set this machine's clock right (use NTP): Entra ID found the signed client assertion "
        "outside its valid time range."
    ),
    AuthFailure.INVALID_SCOPE: (
        "Check the cloud and Graph endpoint settings: Entra ID rejected the scope {scope}."
    ),
    AuthFailure.NETWORK: (
        "Make sure this machine can reach {host} over HTTPS (DNS, firewall, HTTPS_PROXY/NO_PROXY), "
        "then retry."
    ),
    AuthFailure.TLS: (
        "The TLS certificate of {host} is not trusted: if a TLS-inspecting proxy is in the way, "
        f"give its CA with `{_UPDATE} --ca-bundle FILE` (verification is never disabled)."
    ),
    AuthFailure.SERVICE: "Entra ID is temporarily unavailable at {host}; retry in a few minutes.",
    AuthFailure.UNKNOWN: f"Check the tenant ID, client ID and credential in {_APP}.",
}


class AuthError(Exception):
    """A token could not be obtained; `fix` is the setup step that resolves it."""

    def __init__(
        self,
        kind: AuthFailure,
        message: str,
        fix: str,
        aadsts: int | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self.kind = kind
        self.message = message
        self.fix = fix
        self.aadsts = aadsts
        self.correlation_id = correlation_id
        super().__init__(message)

    @property
    def transient(self) -> bool:
        return self.kind in TRANSIENT_FAILURES
