"""Setup diagnostics: can this connection sign in, and can it read everything a sync reads?"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from licensewatch.domain.plans import WRITE_ROLE, WRITE_ROLES
from licensewatch.graph.auth import AuthError, TokenProvider
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.diagnostics_model import Check as Check
from licensewatch.graph.diagnostics_model import CheckStatus as CheckStatus
from licensewatch.graph.diagnostics_model import DiagnosticReport as DiagnosticReport
from licensewatch.graph.errors import GraphAuthorizationError, GraphError, GraphUnavailableError
from licensewatch.graph.optional_permissions import optional_checks
from licensewatch.graph.retry import RetryPolicy

REQUIRED_ROLES = ("Directory.Read.All", "User.Read.All")
_PERMISSIONS = "Entra ID > App registrations > <app> > API permissions"
_SIGN_IN_PATH = "/users?$top=1&$select=id,signInActivity"


@dataclass(frozen=True, slots=True)
class _Probe:
    key: str
    title: str
    path: str


# Every endpoint a sync reads (architecture: collection engine steps 2-3 and delta runs).
PROBES = (
    _Probe("organization", "Read the organization", "/organization"),
    _Probe("subscribed_skus", "Read subscribed SKUs (licence counts)", "/subscribedSkus"),
    _Probe("subscriptions", "Read directory subscriptions", "/directory/subscriptions"),
    _Probe(
        "users",
        "Read users with their licences",
        "/users?$top=1&$select=id,assignedLicenses,licenseAssignmentStates",
    ),
    _Probe("groups", "Read groups with licences", "/groups?$top=1&$select=id,assignedLicenses"),
    _Probe(
        "users_delta", "Track user changes (delta)", "/users/delta?$select=id&$deltatoken=latest"
    ),
)
SIGN_IN = _Probe("sign_in_activity", "Read sign-in activity (optional)", _SIGN_IN_PATH)

ClientFactory = Callable[[GraphConnection, TokenProvider], GraphClient]


def default_client(connection: GraphConnection, tokens: TokenProvider) -> GraphClient:
    """A client with a short retry budget: diagnostics answer in seconds, not minutes."""
    policy = RetryPolicy(max_attempts=3, max_total_wait=10.0, sync_budget=10.0)
    return GraphClient(connection, token_provider=tokens, retry=policy, timeout=30.0)


def _consent_fix(connection: GraphConnection) -> str:
    return (
        f"In {_PERMISSIONS}, add the Microsoft Graph application permissions "
        f"{' and '.join(REQUIRED_ROLES)}, then click 'Grant admin consent for {connection.tenant}'."
    )


def _permission_fix(connection: GraphConnection, permission: str | None) -> str:
    wanted = permission or " and ".join(REQUIRED_ROLES)
    return (
        f"In {_PERMISSIONS}, add the Microsoft Graph application permission {wanted}, then click "
        f"'Grant admin consent for {connection.tenant}'."
    )


def _consent_check(connection: GraphConnection, roles: list[str]) -> Check:
    title = "Admin consent and application permissions"
    if not roles:
        detail = "the token carries no application permissions: admin consent was not granted"
        return Check("consent", title, CheckStatus.FAIL, detail, _consent_fix(connection))
    missing = [r for r in REQUIRED_ROLES if r not in roles]
    if missing:
        detail = f"granted: {', '.join(roles)}; not granted: {', '.join(missing)}"
        return Check("consent", title, CheckStatus.WARN, detail, _consent_fix(connection))
    return Check("consent", title, CheckStatus.OK, f"granted: {', '.join(roles)}")


def _summary(probe: _Probe, body: dict[str, Any]) -> str:
    value = body.get("value")
    if probe.key == "organization" and isinstance(value, list) and value:
        return f"organization {value[0].get('displayName', '?')!r}"
    if probe.key == "users_delta":
        return "delta link issued" if body.get("@odata.deltaLink") else "delta readable"
    if isinstance(value, list) and probe.key in {"subscribed_skus", "subscriptions"}:
        return f"{len(value)} found"
    return "readable"


def _run_probe(
    client: GraphClient, connection: GraphConnection, probe: _Probe
) -> tuple[Check, bool]:
    """The probe's check, and whether Graph is unreachable (so further probes are pointless)."""
    fail = CheckStatus.FAIL
    try:
        body = client.get_json(probe.path)
    except GraphAuthorizationError as exc:
        fix = _permission_fix(connection, exc.missing_permission)
        return Check(probe.key, probe.title, fail, str(exc), fix), False
    except GraphUnavailableError as exc:
        host = urlsplit(connection.graph_base).netloc
        fix = f"Make sure this machine can reach {host} over HTTPS (and trusts its certificate)."
        return Check(probe.key, probe.title, fail, str(exc), fix), exc.status is None
    except GraphError as exc:
        return Check(probe.key, probe.title, fail, str(exc), None), False
    except AuthError as exc:
        return Check(probe.key, probe.title, fail, exc.message, exc.fix), not exc.transient
    return Check(probe.key, probe.title, CheckStatus.OK, _summary(probe, body)), False


def _sign_in_check(client: GraphClient) -> Check:
    probe = SIGN_IN
    try:
        client.get_json(probe.path)
    except (GraphError, AuthError) as exc:
        detail = f"inactive-user findings will be unavailable: {exc}"
        fix = (
            f"Optional: add the application permission AuditLog.Read.All in {_PERMISSIONS} and "
            "grant admin consent; the tenant also needs Microsoft Entra ID P1 or P2."
        )
        return Check(probe.key, probe.title, CheckStatus.WARN, detail, fix)
    return Check(probe.key, probe.title, CheckStatus.OK, "sign-in activity readable")


def write_check(connection: GraphConnection, roles: list[str], allowed: bool) -> Check:
    """Can change plans be applied: the tenant's opt-in and the app's write permission."""
    title = f"Licence writes ({WRITE_ROLE}, for change plans)"
    fix = (
        f"In the Microsoft Entra admin center: App registrations > <the app> > API permissions > "
        f"Add a permission > Microsoft Graph > Application permissions > {WRITE_ROLE}, then "
        f"'Grant admin consent for {connection.tenant}'."
    )
    granted = sorted(WRITE_ROLES & set(roles))
    state = "on" if allowed else "off (`tenant update NAME --allow-writes`)"
    if not granted:
        if allowed:
            detail = f"writes are on but the token lacks {WRITE_ROLE}: plans cannot be applied"
            return Check("writes", title, CheckStatus.FAIL, detail, fix)
        detail = f"read-only: writes are {state} and {WRITE_ROLE} is not granted"
        return Check("writes", title, CheckStatus.SKIPPED, detail, fix)
    if WRITE_ROLE not in granted:
        detail = f"granted through {', '.join(granted)}, more than needed; writes are {state}"
        least = f"Prefer the least privileged {WRITE_ROLE} and remove {', '.join(granted)}."
        return Check("writes", title, CheckStatus.WARN, detail, least)
    return Check("writes", title, CheckStatus.OK, f"{WRITE_ROLE} granted; writes are {state}")


def _skipped(reason: str, probes: tuple[_Probe, ...]) -> list[Check]:
    return [Check(p.key, p.title, CheckStatus.SKIPPED, f"skipped: {reason}") for p in probes]


def diagnose(
    connection: GraphConnection,
    *,
    client_factory: ClientFactory = default_client,
    writes_allowed: bool | None = None,
) -> DiagnosticReport:
    """Sign in, read the token's roles, then probe each endpoint; setup problems never raise.

    With `writes_allowed` (the tenant's opt-in), the token's roles also say whether change
    plans can be applied (no write is attempted: the `roles` claim is Entra's answer).
    """
    tokens = TokenProvider(connection)
    try:
        report = _diagnose(connection, tokens, client_factory)
    finally:
        tokens.close()
    if writes_allowed is None or report.tenant_id is None:
        return report
    checks = [*report.checks, write_check(connection, report.roles, writes_allowed)]
    ok = all(c.status is not CheckStatus.FAIL for c in checks)
    return DiagnosticReport(checks, ok=ok, tenant_id=report.tenant_id, roles=report.roles)


def _diagnose(
    connection: GraphConnection, tokens: TokenProvider, client_factory: ClientFactory
) -> DiagnosticReport:
    title = "Sign in to Entra ID (client credentials)"
    try:
        token = tokens.token()
    except AuthError as exc:
        code = f" (AADSTS{exc.aadsts})" if exc.aadsts else ""
        checks = [Check("token", title, CheckStatus.FAIL, f"{exc.message}{code}", exc.fix)]
        checks += _skipped("no token", (*PROBES, SIGN_IN))
        return DiagnosticReport(checks, ok=False, tenant_id=None, roles=[])
    roles = sorted(token.roles)
    detail = f"token issued to app {token.app_id} in tenant {token.tenant_id}"
    checks = [Check("token", title, CheckStatus.OK, detail), _consent_check(connection, roles)]
    if not roles:
        checks += _skipped("admin consent not granted", (*PROBES, SIGN_IN))
    else:
        with client_factory(connection, tokens) as client:
            for index, probe in enumerate(PROBES):
                check, unreachable = _run_probe(client, connection, probe)
                checks.append(check)
                if unreachable:
                    checks += _skipped("Graph unreachable", (*PROBES[index + 1 :], SIGN_IN))
                    break
            else:
                checks.append(_sign_in_check(client))
                checks += optional_checks(client, connection, roles)
    ok = all(c.status is not CheckStatus.FAIL for c in checks)
    return DiagnosticReport(checks, ok=ok, tenant_id=token.tenant_id, roles=roles)
