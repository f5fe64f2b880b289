"""Graph failures: errors with status, code and request ids; the class of each HTTP answer."""

# Graph's error shape: learn.microsoft.com/graph/errors

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from licensewatch.graph.http import is_tls_failure

# Token failures live in token_errors.py; re-exported here for existing importers.
from licensewatch.graph.token_errors import FIXES as FIXES
from licensewatch.graph.token_errors import KIND_BY_AADSTS as KIND_BY_AADSTS
from licensewatch.graph.token_errors import KIND_BY_ERROR as KIND_BY_ERROR
from licensewatch.graph.token_errors import TRANSIENT_FAILURES as TRANSIENT_FAILURES
from licensewatch.graph.token_errors import AuthError as AuthError
from licensewatch.graph.token_errors import AuthFailure as AuthFailure

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
    ("/reports/", "Reports.Read.All"),
    ("/admin/reportSettings", "ReportSettings.Read.All"),
)
# 403 codes whose cause is not a permission (signInActivity without Entra ID P1/P2).
_NOT_A_PERMISSION = frozenset({"Authentication_RequestFromNonPremiumTenantOrB2CTenant"})
# Codes that say "the delta token is no longer valid: synchronise again" (Graph's errors page).
DELTA_RESYNC_CODES = frozenset({"syncStateNotFound", "resyncRequired"})
# A directory `$skiptoken` that is too old to resume from (seen on long reads of big tenants).
EXPIRED_PAGE_TOKEN = "Directory_ExpiredPageToken"  # noqa: S105 - an error code, not a secret


class GraphError(Exception):
    """A failed Graph request; `str()` always names the request-id for Microsoft support."""

    # Set by the client when the request gave up on a transient failure (the chain may pause
    # and ask again); `retry_after` is the wait the last answer asked for.
    retryable: bool = False
    retry_after: float | None = None
    # A write whose outcome is unknown (timeout, reset, 5xx): read before sending it again.
    uncertain: bool = False

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
    """The delta token can no longer be used: do a full sync (`location`: the fresh query).

    Graph says so with 410 Gone, or with a 4xx whose code is `syncStateNotFound` or
    `resyncRequired`: https://learn.microsoft.com/graph/errors and
    https://learn.microsoft.com/graph/delta-query-overview.
    """

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
    if status == 410 or (400 <= status < 500 and code in DELTA_RESYNC_CODES):
        return DeltaTokenExpired(text, location=headers.get("location"), **kw)
    if status == 429:
        return GraphThrottledError(text, **kw)
    if status >= 500:
        return GraphUnavailableError(text, **kw)
    return GraphError(text, **kw)


def host_only(url: str) -> str:
    """A URL shown by its host only: a pre-authenticated download URL is itself a credential."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…"


def unreachable_error(exc: httpx.TransportError, url: str, crid: str, attempt: int) -> GraphError:
    """The error of a request that got no answer: a TLS trust failure, or the host unreachable."""
    host = urlsplit(url).netloc
    if is_tls_failure(exc):  # a trust problem never heals by retrying, and is never switched off
        message = (
            f"TLS certificate verification failed for {host} ({exc}); if a TLS-inspecting proxy "
            "is in the way, configure its CA with --ca-bundle"
        )
    else:
        message = f"{host} unreachable after {attempt} attempts: {type(exc).__name__}: {exc}"
    return GraphUnavailableError(message, client_request_id=crid, url=url)
