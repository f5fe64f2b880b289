"""App-only tokens from Entra ID through MSAL; every failure mapped to a cause and a setup fix."""

from __future__ import annotations

import base64
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import msal
import orjson

from licensewatch.graph.clouds import is_public_authority_host
from licensewatch.graph.connection import CertificateCredential, GraphConnection
from licensewatch.graph.http import (
    CaBundleError,
    MsalHttpAdapter,
    build_http_client,
    is_tls_failure,
)
from licensewatch.graph.retry import parse_retry_after
from licensewatch.graph.token_errors import (
    FIXES,
    KIND_BY_AADSTS,
    KIND_BY_ERROR,
    AuthError,
    AuthFailure,
)

_AADSTS = re.compile(r"AADSTS(\d+)")


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str = field(repr=False)
    expires_on: float
    roles: frozenset[str]
    tenant_id: str | None
    app_id: str | None


def unverified_claims(jwt: str) -> dict[str, Any]:
    """The JWT payload, unverified: only to read roles/tid (Graph verifies the token)."""
    try:
        payload = jwt.split(".")[1]
        data = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


__all__ = ["AccessToken", "AuthError", "AuthFailure", "TokenProvider", "unverified_claims"]


class TokenProvider:
    """One MSAL ConfidentialClientApplication per connection, in-memory token cache, thread-safe."""

    def __init__(
        self,
        connection: GraphConnection,
        *,
        http: httpx.Client | None = None,
        timeout: float = 30.0,
        certificate_mode: Literal["x5c", "thumbprint"] = "x5c",
    ) -> None:
        self.connection = connection
        self._http = http
        self._owns_http = http is None
        self._timeout = timeout
        self._certificate_mode = certificate_mode
        self._lock = threading.Lock()
        self._app: Any = None
        self._adapter: MsalHttpAdapter | None = None
        self._current: AccessToken | None = None
        self._margin = 300.0
        self._failed = False  # the last acquisition failed (MSAL may replay it from its cache)

    @property
    def reusable(self) -> bool:
        """Built and its last token request answered: worth keeping for the tenant's next sync."""
        return self._app is not None and not self._failed

    def token(self) -> AccessToken:
        """A valid token (cached until near expiry); AuthError with a cause and fix otherwise."""
        with self._lock:
            current, now = self._current, time.time()
            if current is not None and current.expires_on - now > self._margin:
                return current
            self._failed = True  # until the answer is a token
            self._current = token = self._acquire()
            self._failed = False
            # Like MSAL: renew 5 min early; short lifetimes (emulator) renew in their last tenth.
            self._margin = min(300.0, max(0.0, token.expires_on - now) / 10)
            return token

    def invalidate(self) -> None:
        """Forget the cached token (after a 401) so the next token() asks Entra ID for a new one."""
        with self._lock:
            self._current = None
            if self._app is not None:
                self._app.remove_tokens_for_client()

    def close(self) -> None:
        if self._owns_http and self._http is not None:
            self._http.close()

    def __enter__(self) -> TokenProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _client_credential(self) -> str | dict[str, str]:
        credential = self.connection.credential
        if not isinstance(credential, CertificateCredential):
            return credential.secret
        pair = {"private_key": credential.private_key_pem.decode("ascii")}
        if self._certificate_mode == "thumbprint":  # RS256 + x5t (SHA-1), MSAL's legacy mode
            return {**pair, "thumbprint": credential.thumbprint_sha1}
        return {**pair, "public_certificate": credential.certificate_pem.decode("ascii")}

    def _build_app(self) -> Any:
        conn = self.connection
        try:
            if self._http is None:
                self._http = build_http_client(conn.ca_bundle, timeout=self._timeout)
        except CaBundleError as exc:
            raise self._error(AuthFailure.TLS, str(exc)) from exc
        self._adapter = MsalHttpAdapter(self._http)
        return msal.ConfidentialClientApplication(
            conn.client_id,
            client_credential=self._client_credential(),
            authority=conn.authority_url,
            http_client=self._adapter,
            # Private hosts (emulator, proxies) have no instance discovery; MSAL knows public ones.
            instance_discovery=None if is_public_authority_host(conn.authority_url) else False,
            azure_region=False,  # ignore MSAL_FORCE_REGION: only the configured host is used
            token_cache=msal.TokenCache(),
        )

    def _acquire(self) -> AccessToken:
        try:
            if self._app is None:
                try:
                    self._app = self._build_app()
                except ValueError as exc:
                    if isinstance(exc, AuthError):
                        raise
                    raise self._discovery_error(exc) from exc
            result = self._app.acquire_token_for_client(scopes=[self.connection.scope])
        except httpx.TransportError as exc:
            raise self._transport_error(exc) from exc
        except msal.exceptions.MsalServiceError as exc:  # MSAL raises it for 5xx
            error = self._error(AuthFailure.SERVICE, f"Entra ID error: {exc}")
            error.retry_after = self._retry_after()
            raise error from exc
        if not isinstance(result, dict) or "access_token" not in result:
            raise self._result_error(result if isinstance(result, dict) else {})
        claims = unverified_claims(result["access_token"])
        roles = claims.get("roles")
        expires_on = time.time() + float(result.get("expires_in", 0))
        if isinstance(claims.get("exp"), int | float):  # `exp` is whole seconds: it may be earlier
            expires_on = min(expires_on, float(claims["exp"]))
        return AccessToken(
            value=result["access_token"],
            expires_on=expires_on,
            roles=frozenset(r for r in roles if isinstance(r, str))
            if isinstance(roles, list)
            else frozenset(),
            tenant_id=claims.get("tid"),
            app_id=claims.get("appid") or claims.get("azp"),
        )

    def _error(
        self,
        kind: AuthFailure,
        message: str,
        aadsts: int | None = None,
        correlation: str | None = None,
    ) -> AuthError:
        conn = self.connection
        cred = conn.credential
        fix = FIXES[kind].format(
            cloud=conn.cloud.value,
            tenant=conn.tenant,
            scope=conn.scope,
            host=urlsplit(conn.authority_url).netloc,
            thumbprint=cred.thumbprint_sha1 if isinstance(cred, CertificateCredential) else "?",
        )
        return AuthError(kind, message, fix, aadsts, correlation)

    def _result_error(self, result: dict[str, Any]) -> AuthError:
        description = str(result.get("error_description") or result.get("error") or "no token")
        codes = result.get("error_codes")
        code = codes[0] if isinstance(codes, list) and codes and isinstance(codes[0], int) else None
        if code is None and (match := _AADSTS.search(description)):
            code = int(match.group(1))
        kind = KIND_BY_AADSTS.get(code or 0) or KIND_BY_ERROR.get(str(result.get("error")))
        last = self._adapter.last_response if self._adapter else None
        if kind is None and last is not None and last.status_code == 429:
            kind = AuthFailure.THROTTLED  # ESTS throttling, whatever code it carries
        # Keep the first line: the Trace/Correlation/Timestamp lines are carried separately.
        message = description.split("\r\n")[0].split("\n")[0]
        correlation = result.get("correlation_id")
        error = self._error(kind or AuthFailure.UNKNOWN, message, code, correlation)
        if error.transient:
            error.retry_after = self._retry_after()
        return error

    def _retry_after(self) -> float | None:
        """The last token answer's Retry-After, in whole seconds as MSAL's cache reads it."""
        last = self._adapter.last_response if self._adapter else None
        if last is None or (last.status_code != 429 and last.status_code < 500):
            return None
        seconds = parse_retry_after(last.headers.get("Retry-After"))
        return None if seconds is None else float(int(seconds))

    def _discovery_error(self, exc: ValueError) -> AuthError:
        """MSAL's constructor raises ValueError when OIDC discovery fails: classify the response."""
        response = self._adapter.last_response if self._adapter else None
        if response is not None and response.status_code >= 500:
            return self._error(
                AuthFailure.SERVICE, f"Entra ID answered HTTP {response.status_code}"
            )
        if response is not None and 400 <= response.status_code < 500:
            try:
                body = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                body = None
            if isinstance(body, dict):
                error = self._result_error(body)
                if error.kind is not AuthFailure.UNKNOWN:
                    return error
            return self._error(
                AuthFailure.TENANT_NOT_FOUND,
                f"Tenant {self.connection.tenant!r} not found at "
                f"{urlsplit(self.connection.authority_url).netloc} (HTTP {response.status_code})",
            )
        return self._error(AuthFailure.UNKNOWN, f"Entra ID configuration could not be read: {exc}")

    def _transport_error(self, exc: httpx.TransportError) -> AuthError:
        try:
            host = exc.request.url.host
        except RuntimeError:  # no request attached
            host = urlsplit(self.connection.authority_url).hostname or "?"
        if is_tls_failure(exc):
            return self._error(
                AuthFailure.TLS, f"TLS certificate verification failed for {host}: {exc}"
            )
        return self._error(AuthFailure.NETWORK, f"Cannot reach {host}: {type(exc).__name__}: {exc}")
