"""HTTP plumbing: httpx client factory (own TLS trust, env proxies), MSAL adapter, request stats."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import certifi
import httpx

USER_AGENT = "licensewatch (ITAM connector; +https://github.com/licensewatch/licensewatch)"


class CaBundleError(ValueError):
    """The configured CA bundle cannot be loaded."""


def ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """TLS trust from the connection's CA bundle or certifi; environment variables never change it.

    REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE/SSL_CERT_FILE are ignored on purpose (requests, under MSAL):
    trust is what the tenant's settings say, and verification is never disabled.
    """
    path = ca_bundle or certifi.where()
    try:
        if ca_bundle and os.path.isdir(ca_bundle):
            return ssl.create_default_context(capath=ca_bundle)
        return ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        raise CaBundleError(f"cannot load CA bundle {path}: {exc}") from exc


# A sharded read (8 ranges by default) and its /users/$count, or the five inventory reads of a
# sync, run at once: with fewer connections some of them would wait a whole round trip.
DEFAULT_MAX_CONNECTIONS = 16


def build_http_client(
    ca_bundle: str | None = None,
    *,
    timeout: float = 60.0,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
) -> httpx.Client:
    """An httpx client for Entra and Graph: explicit TLS trust, env proxies, one connect retry."""
    verify = ssl_context(ca_bundle)
    return httpx.Client(
        # trust_env picks up HTTP(S)_PROXY/NO_PROXY; TLS trust stays ours (verify is a context).
        trust_env=True,
        verify=verify,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        transport=httpx.HTTPTransport(verify=verify, retries=1),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


def is_tls_failure(exc: BaseException) -> bool:
    """True when a transport error comes from TLS (certificate verification, handshake)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class MsalHttpAdapter:
    """MSAL's `http_client` over httpx; keeps the last response so failures can be classified.

    MSAL wraps it in ThrottledHttpClient, which caches error responses: one adapter per app.
    """

    def __init__(self, client: httpx.Client) -> None:
        self._client = client
        self.last_response: httpx.Response | None = None

    def post(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        **_ignored: Any,
    ) -> httpx.Response:
        if isinstance(data, str | bytes):
            response = self._client.post(url, params=params, content=data, headers=headers)
        else:
            # MSAL puts the client assertion in as bytes; httpx would send str(bytes) ("b'...'").
            form = {k: v.decode() if isinstance(v, bytes) else v for k, v in (data or {}).items()}
            response = self._client.post(url, params=params, data=form, headers=headers)
        self.last_response = response
        return response

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        **_ignored: Any,
    ) -> httpx.Response:
        response = self._client.get(url, params=params, headers=headers)
        self.last_response = response
        return response

    def close(self) -> None:
        """MSAL may close its client; the httpx client belongs to our caller, so do nothing."""


@dataclass
class GraphStats:
    """Counters of one client, for metrics (updated from the prefetch thread too)."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    pages: int = 0
    bytes: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What `on_request` hooks receive after every HTTP attempt (never the token)."""

    method: str
    url: str
    elapsed: float
    attempt: int
    status: int | None
    client_request_id: str
    request_id: str | None = None
    size: int = 0
    error: str | None = None
