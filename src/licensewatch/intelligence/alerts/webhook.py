"""Webhook delivery: a JSON POST signed (HMAC-SHA256 of `timestamp.body`) to public targets only."""

from __future__ import annotations

import hashlib
import hmac
import socket
import time
import typing
from typing import Any

import httpcore
import httpx
import orjson

from licensewatch.security.outbound import TargetRefused, checked_addresses
from licensewatch.security.redaction import redact_url

SIGNATURE_HEADER = "X-Licensewatch-Signature"
TIMESTAMP_HEADER = "X-Licensewatch-Timestamp"
REPLAY_WINDOW_SECONDS = 300  # what receivers should accept; documented in docs/intelligence.md
TIMEOUT_SECONDS = 10.0


class DeliveryError(Exception):
    """A notification could not be delivered; the message says why (never a secret)."""


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, f"{timestamp}." + body): what receivers recompute.

    The timestamp is signed so that a captured request cannot be replayed later: receivers
    refuse timestamps older than REPLAY_WINDOW_SECONDS.
    """
    message = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret, message, hashlib.sha256).hexdigest()


class _CheckedBackend(httpcore.SyncBackend):
    """Connects only to addresses checked at connect time, so DNS cannot rebind to a private one.

    The address is resolved and judged here and the socket connects to that very address; TLS
    still verifies the certificate against the URL's host name.
    """

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = checked_addresses(host, port, allow_private=self.allow_private)
        error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # next address, like socket.create_connection
                error = exc
        raise error or httpcore.ConnectError(f"no address for {host}")


def _client(verify: str | bool, allow_private: bool) -> httpx.Client:
    context = httpx.create_ssl_context(verify=verify, trust_env=False)
    transport = httpx.HTTPTransport(verify=context, trust_env=False)
    # httpx builds its pool without a way to pass a network backend: give it one that checks.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=context, network_backend=_CheckedBackend(allow_private)
    )
    # Proxies from HTTPS_PROXY still apply (mounted by httpx); the target was checked first.
    return httpx.Client(transport=transport, timeout=TIMEOUT_SECONDS, follow_redirects=False)


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuses a URL that is not http(s) or whose host is not a public address (TargetRefused)."""
    try:
        parts = httpx.URL(url)
    except httpx.InvalidURL:
        raise TargetRefused(f"webhook URL {redact_url(url)} is not a valid URL") from None
    if parts.scheme not in ("https", "http") or not parts.host:
        raise TargetRefused(f"webhook URL {redact_url(url)} must be an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    checked_addresses(parts.host, port, allow_private=allow_private)


def post_json(
    url: str,
    payload: dict[str, Any],
    secret: bytes | None,
    ca_bundle: str | None,
    *,
    allow_private: bool = False,
) -> None:
    """POST the payload; any non-2xx answer, refused target or network error raises DeliveryError.

    Messages name the target as `scheme://host/…` only: the URL itself may be the credential.
    """
    shown = redact_url(url)
    body = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "licensewatch",
        TIMESTAMP_HEADER: timestamp,
    }
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, timestamp, body)
    try:
        check_url(url, allow_private=allow_private)  # again at delivery: settings or DNS changed
        with _client(ca_bundle or True, allow_private) as client:
            response = client.post(url, content=body, headers=headers)
    except TargetRefused as exc:
        raise DeliveryError(f"webhook {shown} refused: {exc}") from None
    except (httpx.HTTPError, socket.gaierror) as exc:
        reason = str(exc).replace(url, shown) or type(exc).__name__
        raise DeliveryError(f"webhook {shown} unreachable: {reason}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook {shown} answered HTTP {response.status_code}")
