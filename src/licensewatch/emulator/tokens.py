"""JWTs at the token endpoint: the access tokens it issues and the client assertions it checks."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from licensewatch.emulator import errors_aad as aad
from licensewatch.emulator.apps import App
from licensewatch.emulator.state import Tenant, World, utcnow

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Audiences Graph accepts: its URI (with or without the slash) and its application id.
GRAPH_AUDIENCES = frozenset(
    {"https://graph.microsoft.com", "https://graph.microsoft.com/", GRAPH_APP_ID}
)
_CACHE_LIMIT = 10_000


class InvalidToken(Exception):
    """Graph's 401 InvalidAuthenticationToken, in its words (learn.microsoft.com/graph/errors)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class VerifiedToken:
    tenant_id: str
    app_id: str
    roles: frozenset[str]
    expires_at: float


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def service_principal_id(tenant: Tenant, app: App) -> str:
    """The app's service principal object id in the tenant (stable, so `oid` never changes)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sp:{tenant.tenant_id}:{app.client_id}"))


class TokenIssuer:
    """Signs access tokens with one RSA key per instance and verifies them, cached, for Graph."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public = self._key.public_key()
        numbers = self._public.public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        self.key_id = _b64url(hashlib.sha1(n).digest())  # noqa: S324 - a key identifier, not security
        self._jwk = {
            "kty": "RSA",
            "use": "sig",
            "kid": self.key_id,
            "x5t": self.key_id,
            "n": _b64url(n),
            "e": _b64url(numbers.e.to_bytes(3, "big")),
        }
        self._verified: dict[str, VerifiedToken] = {}

    def jwks(self) -> dict[str, Any]:
        """The signing key as a JWK set (served at /{tenant}/discovery/v2.0/keys)."""
        return {"keys": [dict(self._jwk)]}

    def issue(
        self, tenant: Tenant, app: App, resource: str, *, appidacr: str = "1"
    ) -> tuple[str, int]:
        """A v1.0 app-only access token for `resource`; `appidacr` 1 = secret, 2 = certificate."""
        lifetime = self.world.token_lifetime_seconds
        now = int(time.time())
        sp_id = service_principal_id(tenant, app)
        claims: dict[str, Any] = {
            "aud": resource,
            "iss": f"https://sts.windows.net/{tenant.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "aio": _b64url(uuid.uuid4().bytes),
            "app_displayname": app.display_name,
            "appid": app.client_id,
            "appidacr": appidacr,
            "azp": app.client_id,
            "idp": f"https://sts.windows.net/{tenant.tenant_id}/",
            "idtyp": "app",
            "oid": sp_id,
            "rh": _b64url(uuid.uuid4().bytes),
            "sub": sp_id,
            "tenant_region_scope": "EU",
            "tid": tenant.tenant_id,
            "uti": _b64url(uuid.uuid4().bytes),
            "ver": "1.0",
            "xms_tcdt": int(tenant.created.timestamp()),
        }
        if app.roles:  # Entra omits the claim when no application permission has admin consent
            claims["roles"] = sorted(app.roles)
        headers = {"typ": "JWT", "x5t": self.key_id, "kid": self.key_id}
        token = jwt.encode(claims, self._key, algorithm="RS256", headers=headers)
        return token, lifetime

    def sign(self, claims: dict[str, Any], *, foreign_key: bool = False) -> str:
        """An RS256 JWT of `claims` with this key (or, to test refusals, with a stranger's key)."""
        key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if foreign_key
            else self._key
        )
        headers = {"typ": "JWT", "kid": self.key_id}
        return jwt.encode(claims, key, algorithm="RS256", headers=headers)

    def verify(self, authorization: str | None) -> VerifiedToken:
        """Check an `Authorization` header as Graph does; InvalidToken carries Graph's message."""
        token = _bearer(authorization)
        cached = self._verified.get(token)
        if cached is None:
            cached = self._verify_uncached(token)
            if len(self._verified) >= _CACHE_LIMIT:
                self._verified.clear()
            self._verified[token] = cached
        if time.time() >= cached.expires_at:
            raise InvalidToken("Access token has expired or is not yet valid.")
        return cached

    def _verify_uncached(self, token: str) -> VerifiedToken:
        if not _looks_like_jws(token):
            raise InvalidToken("CompactToken parsing failed with error code: 80049217")
        try:
            claims = jwt.decode(
                token,
                self._public,
                algorithms=["RS256"],
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidSignatureError as exc:
            raise InvalidToken("Access token validation failure.") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("CompactToken parsing failed with error code: 80049217") from exc
        if claims.get("aud") not in GRAPH_AUDIENCES:
            raise InvalidToken("Access token validation failure. Invalid audience.")
        now = time.time()
        expires_at = float(claims.get("exp", 0))
        if now >= expires_at or now < float(claims.get("nbf", 0)):
            raise InvalidToken("Access token has expired or is not yet valid.")
        roles = claims.get("roles", [])
        return VerifiedToken(
            tenant_id=str(claims.get("tid", "")),
            app_id=str(claims.get("appid", "")),
            roles=frozenset(str(r) for r in roles) if isinstance(roles, list) else frozenset(),
            expires_at=expires_at,
        )


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise InvalidToken("Access token is empty.")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        # Graph treats a header without the Bearer scheme as carrying no token at all.
        raise InvalidToken("Access token is empty.")
    token = token.strip()
    if not token:
        raise InvalidToken("Access token is empty.")
    return token


def _looks_like_jws(token: str) -> bool:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return False
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except ValueError:
        return False
    return isinstance(header, dict)


# ---- client assertions (learn.microsoft.com/entra/identity-platform/certificate-credentials) ---

ASSERTION_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
# Entra's tolerance for client clocks when checking an assertion's exp and nbf.
ASSERTION_SKEW_SECONDS = 300


def _b64_any(value: str) -> bytes:
    """base64url with or without padding (MSAL pads, most other clients do not)."""
    value = value.strip().rstrip("=")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _thumbprints_from_header(header: dict[str, Any]) -> tuple[set[str], set[str], str]:
    """(SHA-1 candidates, SHA-256 candidates, thumbprint shown in errors), all uppercase hex."""
    sha1: set[str] = set()
    sha256: set[str] = set()
    shown = ""
    try:
        if isinstance(header.get("x5t#S256"), str):
            sha256.add(_b64_any(header["x5t#S256"]).hex().upper())
            shown = next(iter(sha256))
        x5c = header.get("x5c")
        if isinstance(x5c, list) and x5c and isinstance(x5c[0], str):
            der = base64.b64decode(x5c[0])
            sha1.add(hashlib.sha1(der).hexdigest().upper())  # noqa: S324 - Entra's identifier
            sha256.add(hashlib.sha256(der).hexdigest().upper())
            shown = hashlib.sha1(der).hexdigest().upper()  # noqa: S324 - Entra's identifier
        if isinstance(header.get("x5t"), str):
            sha1.add(_b64_any(header["x5t"]).hex().upper())
            shown = _b64_any(header["x5t"]).hex().upper()
    except ValueError as exc:
        raise aad.malformed_assertion() from exc
    return sha1, sha256, shown


def check_assertion(assertion: str, app: App, audiences: set[str]) -> None:
    """Validate a client assertion JWT against the app's certificates; raises the AadError."""
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError as exc:
        raise aad.malformed_assertion() from exc
    if header.get("typ") not in (None, "JWT", "http://openid.net/specs/jwt/1.0"):
        raise aad.AadError(
            5002727,
            "invalid_request",
            400,
            "Invalid JWT header type specified, must be 'JWT' or "
            "'http://openid.net/specs/jwt/1.0'.",
        )
    alg = header.get("alg")
    if alg not in ASSERTION_ALGORITHMS:
        raise aad.malformed_assertion()
    sha1, sha256, shown = _thumbprints_from_header(header)
    cert = next(
        (c for c in app.certificates if c.thumbprint_sha1 in sha1 or c.thumbprint_sha256 in sha256),
        None,
    )
    if cert is None:
        raise aad.key_problem(app.client_id, shown, "The key was not found.", not_registered=True)
    if cert.expires <= utcnow():
        raise aad.key_problem(
            app.client_id, shown, "The key used is expired.", not_registered=False
        )
    public_key = x509.load_pem_x509_certificate(cert.certificate_pem).public_key()
    try:
        claims = jwt.decode(
            assertion,
            public_key,  # type: ignore[arg-type]  # app certificates are RSA (certs.py)
            algorithms=[str(alg)],
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_aud": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidSignatureError as exc:
        reason = "The provided signature value did not match the expected signature value."
        raise aad.key_problem(app.client_id, shown, reason, not_registered=False) from exc
    except jwt.PyJWTError as exc:
        raise aad.malformed_assertion() from exc
    client = app.client_id.lower()
    if str(claims.get("iss", "")).lower() != client or str(claims.get("sub", "")).lower() != client:
        raise aad.assertion_issuer()
    if str(claims.get("aud", "")).lower().rstrip("/") not in audiences:
        raise aad.assertion_audience()
    _check_assertion_time(claims)


def _check_assertion_time(claims: dict[str, Any]) -> None:
    try:
        expires = float(claims.get("exp", 0))
        not_before = float(claims.get("nbf", 0))  # optional: MSAL does not send it
    except (TypeError, ValueError) as exc:
        raise aad.malformed_assertion() from exc
    now = time.time()
    if now > expires + ASSERTION_SKEW_SECONDS or now + ASSERTION_SKEW_SECONDS < not_before:
        raise aad.assertion_time(now, not_before, expires)
