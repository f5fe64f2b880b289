"""Signing people in with Entra ID: authorization code flow with PKCE through MSAL, ID token checks.

MSAL Python (1.38+) no longer validates ID tokens: that is the application's job
(https://github.com/AzureAD/microsoft-authentication-library-for-python/issues/911). So every
ID token is checked here: RS256 signature against the JWKS named by the OpenID discovery
document, issuer, audience, expiry and nonce, as Microsoft's guidance for web apps asks
(https://learn.microsoft.com/entra/identity-platform/id-tokens#validate-tokens).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import msal
import orjson

from licensewatch.graph.auth import TokenProvider
from licensewatch.graph.clouds import is_public_authority_host
from licensewatch.graph.connection import CertificateCredential, Credential, GraphConnection
from licensewatch.graph.http import MsalHttpAdapter, build_http_client

CLOCK_SKEW_SECONDS = 120
# Graph's checkMemberGroups takes at most 20 group ids per call.
CHECK_GROUPS_BATCH = 20


class SignInError(Exception):
    """A sign-in that must be refused; `reason` is a short code for the audit log."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class SsoConnection:
    """The web app registration that signs people in (not the collector's app)."""

    tenant: str  # the Directory (tenant) ID, or "organizations" for MSP multi-tenant sign-in
    client_id: str
    credential: Credential
    authority_host: str
    graph_endpoint: str
    ca_bundle: str | None = None

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant}"


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A verified ID token's facts."""

    tenant_id: str
    object_id: str
    username: str
    name: str | None
    app_roles: tuple[str, ...]
    groups: tuple[str, ...] | None  # None: overage, ask Graph
    claims: dict[str, Any]


def nonce_sent(flow_nonce: str) -> str:
    """MSAL sends the SHA-256 hex of the flow's nonce; the ID token carries that value."""
    return hashlib.sha256(flow_nonce.encode("ascii")).hexdigest()


class OidcClient:
    """One sign-in round trip: `begin` builds the authorize URL, `complete` redeems the code."""

    def __init__(self, connection: SsoConnection, http: httpx.Client | None = None) -> None:
        self.connection = connection
        self._http = http or build_http_client(connection.ca_bundle, timeout=30.0)
        self._owns_http = http is None

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def _credential(self) -> str | dict[str, str]:
        cred = self.connection.credential
        if isinstance(cred, CertificateCredential):
            return {
                "private_key": cred.private_key_pem.decode("ascii"),
                "public_certificate": cred.certificate_pem.decode("ascii"),
            }
        return cred.secret

    def _msal(self) -> Any:
        host = self.connection.authority_host
        try:
            return msal.ConfidentialClientApplication(
                self.connection.client_id,
                client_credential=self._credential(),
                authority=self.connection.authority,
                http_client=MsalHttpAdapter(self._http),
                # Private hosts (emulator, proxies) have no instance discovery.
                instance_discovery=None if is_public_authority_host(host) else False,
                azure_region=False,
                token_cache=msal.TokenCache(),
            )
        except (ValueError, httpx.HTTPError) as exc:
            message = f"Entra ID cannot be reached for sign-in: {exc}"
            raise SignInError("configuration", message) from exc

    def begin(self, redirect_uri: str) -> dict[str, Any]:
        """The MSAL flow (state, nonce, PKCE verifier) and its `auth_uri` to send the browser to."""
        # form_post keeps the code out of URLs, browser history and Referer (RFC 9700 4.3.1).
        flow: dict[str, Any] = self._msal().initiate_auth_code_flow(
            scopes=[], redirect_uri=redirect_uri, response_mode="form_post"
        )
        return flow

    def complete(self, flow: dict[str, Any], response: dict[str, str]) -> SignedIn:
        """Redeems the code (MSAL checks `state` and sends the PKCE verifier), then verifies."""
        if response.get("error"):
            detail = response.get("error_description") or response["error"]
            raise SignInError("entra_error", f"Entra ID refused the sign-in: {detail}")
        try:
            result = self._msal().acquire_token_by_auth_code_flow(flow, response)
        except ValueError as exc:  # state mismatch or missing code
            message = f"The sign-in response does not match this browser's sign-in: {exc}"
            raise SignInError("state", message) from exc
        except RuntimeError as exc:  # MSAL's own nonce check
            raise SignInError("nonce", f"The ID token's nonce is wrong: {exc}") from exc
        if "error" in result:
            detail = str(result.get("error_description") or result["error"]).splitlines()[0]
            raise SignInError("entra_error", f"Entra ID refused the sign-in: {detail}")
        id_token = result.get("id_token")
        if not isinstance(id_token, str):
            raise SignInError("no_id_token", "Entra ID sent no ID token")
        claims = self.verify(id_token, nonce_sent(str(flow.get("nonce", ""))))
        groups = claims.get("groups")
        overage = "groups" in (claims.get("_claim_names") or {})
        return SignedIn(
            tenant_id=str(claims["tid"]),
            object_id=str(claims["oid"]),
            username=str(claims.get("preferred_username") or claims.get("email") or claims["oid"]),
            name=claims.get("name"),
            app_roles=tuple(str(r) for r in claims.get("roles") or ()),
            groups=None if overage else tuple(str(g) for g in groups or ()),
            claims=claims,
        )

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url)
            response.raise_for_status()
            body = orjson.loads(response.content)
        except (httpx.HTTPError, orjson.JSONDecodeError) as exc:
            raise SignInError("configuration", f"cannot read {url}: {exc}") from exc
        if not isinstance(body, dict):
            raise SignInError("configuration", f"{url} is not a JSON object")
        return body

    def verify(self, id_token: str, expected_nonce: str) -> dict[str, Any]:
        """Signature (JWKS of the discovery document), issuer, audience, expiry and nonce."""
        authority = self.connection.authority
        discovery = self._get_json(f"{authority}/v2.0/.well-known/openid-configuration")
        try:
            header = jwt.get_unverified_header(id_token)
            keys = jwt.PyJWKSet.from_dict(self._get_json(str(discovery["jwks_uri"])))
            key = next(k for k in keys.keys if k.key_id == header.get("kid"))
        except (jwt.PyJWTError, KeyError, StopIteration) as exc:
            message = "The ID token is not signed by a key of Entra ID"
            raise SignInError("signature", message) from exc
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=["RS256"],
                audience=self.connection.client_id,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "tid", "oid"]},
            )
        except jwt.InvalidSignatureError as exc:
            raise SignInError("signature", "The ID token's signature is not valid") from exc
        except jwt.ExpiredSignatureError as exc:
            raise SignInError("expired", "The ID token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            message = "The ID token was issued to another application"
            raise SignInError("audience", message) from exc
        except jwt.PyJWTError as exc:
            raise SignInError("invalid", f"The ID token is not valid: {exc}") from exc
        issuer = str(discovery.get("issuer", "")).replace("{tenantid}", str(claims["tid"]))
        if claims["iss"] != issuer:
            raise SignInError(
                "issuer", f"The ID token's issuer {claims['iss']!r} is not {issuer!r}"
            )
        if claims.get("nonce") != expected_nonce:
            raise SignInError("nonce", "The ID token's nonce does not match this sign-in")
        return claims

    def member_of(self, signed_in: SignedIn, group_ids: list[str]) -> set[str]:
        """Groups overage: which configured groups the person is in, from Graph (app token)."""
        graph = GraphConnection(
            tenant=signed_in.tenant_id,
            client_id=self.connection.client_id,
            credential=self.connection.credential,
            authority_host=self.connection.authority_host,
            graph_endpoint=self.connection.graph_endpoint,
            ca_bundle=self.connection.ca_bundle,
        )
        found: set[str] = set()
        with TokenProvider(graph, http=self._http) as tokens:
            token = tokens.token().value
            for start in range(0, len(group_ids), CHECK_GROUPS_BATCH):
                batch = group_ids[start : start + CHECK_GROUPS_BATCH]
                url = f"{graph.graph_base}/users/{signed_in.object_id}/checkMemberGroups"
                response = self._http.post(
                    url, json={"groupIds": batch}, headers={"Authorization": f"Bearer {token}"}
                )
                if response.status_code != 200:
                    raise SignInError(
                        "groups",
                        "Your groups could not be read (groups overage): grant the web app the "
                        "GroupMember.Read.All application permission, or use app roles "
                        f"(Graph answered HTTP {response.status_code})",
                    )
                found.update(str(g) for g in orjson.loads(response.content).get("value", []))
        return found
