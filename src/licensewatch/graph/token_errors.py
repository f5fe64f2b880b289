"""Entra ID token failures: each AADSTS code mapped to its cause, its permanence and its fix.

Codes and meanings: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
(look a code up at https://login.microsoftonline.com/error?code=N).
"""

from __future__ import annotations

from enum import StrEnum


class AuthFailure(StrEnum):
    TENANT_NOT_FOUND = "tenant_not_found"
    TENANT_MALFORMED = "tenant_malformed"
    APP_NOT_FOUND = "app_not_found"
    APP_DISABLED = "app_disabled"
    WRONG_SECRET = "wrong_secret"  # noqa: S105 - a failure kind, not a password
    EXPIRED_SECRET = "expired_secret"  # noqa: S105 - a failure kind, not a password
    NO_CREDENTIAL = "no_credential"
    CERTIFICATE_NOT_REGISTERED = "certificate_not_registered"
    ASSERTION_EXPIRED = "assertion_expired"
    INVALID_SCOPE = "invalid_scope"
    CONDITIONAL_ACCESS = "conditional_access"
    RESOURCE_NOT_IN_TENANT = "resource_not_in_tenant"
    WRONG_CLOUD = "wrong_cloud"
    THROTTLED = "throttled"
    NETWORK = "network"
    TLS = "tls"
    SERVICE = "service"
    UNKNOWN = "unknown"


# Worth retrying: the same request can succeed later without anyone changing the setup.
TRANSIENT_FAILURES = frozenset({AuthFailure.NETWORK, AuthFailure.SERVICE, AuthFailure.THROTTLED})

KIND_BY_AADSTS = {
    90002: AuthFailure.TENANT_NOT_FOUND,
    900023: AuthFailure.TENANT_MALFORMED,
    700016: AuthFailure.APP_NOT_FOUND,
    7000229: AuthFailure.APP_NOT_FOUND,
    7000112: AuthFailure.APP_DISABLED,  # UnauthorizedClientApplicationDisabled
    7000215: AuthFailure.WRONG_SECRET,
    7000222: AuthFailure.EXPIRED_SECRET,
    7000218: AuthFailure.NO_CREDENTIAL,
    700027: AuthFailure.CERTIFICATE_NOT_REGISTERED,
    700024: AuthFailure.ASSERTION_EXPIRED,
    70011: AuthFailure.INVALID_SCOPE,
    1002012: AuthFailure.INVALID_SCOPE,
    53003: AuthFailure.CONDITIONAL_ACCESS,  # BlockedByConditionalAccess
    500011: AuthFailure.RESOURCE_NOT_IN_TENANT,  # InvalidResourceServicePrincipalNotFound
    90038: AuthFailure.WRONG_CLOUD,  # NationalCloudTenantRedirection
    90055: AuthFailure.THROTTLED,  # TenantThrottlingError
    50196: AuthFailure.THROTTLED,  # LoopDetected: too many identical requests
    90024: AuthFailure.THROTTLED,  # RequestBudgetExceededError: "a transient error"
    90033: AuthFailure.SERVICE,  # MsodsServiceUnavailable
}
KIND_BY_ERROR = {
    "invalid_tenant": AuthFailure.TENANT_NOT_FOUND,
    "invalid_scope": AuthFailure.INVALID_SCOPE,
    "temporarily_unavailable": AuthFailure.SERVICE,
}
_APP = "Entra ID > App registrations > <app>"
_ENTERPRISE = "Entra ID > Enterprise applications > <app>"
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
    AuthFailure.APP_DISABLED: (
        f"The app is disabled in tenant {{tenant}}: in {_ENTERPRISE} > Properties set "
        "'Enabled for users to sign-in?' to Yes (an administrator may have disabled it on "
        "purpose: ask before enabling it), then sync again."
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
    AuthFailure.CONDITIONAL_ACCESS: (
        "A Conditional Access policy blocks this app's sign-in: in Entra ID > Monitoring > "
        "Sign-in logs > Service principal sign-ins, find the failure and the policy that blocked "
        "it, then exclude this app's service principal from that policy or allow this machine's "
        "network location (Entra ID > Protection > Conditional Access)."
    ),
    AuthFailure.RESOURCE_NOT_IN_TENANT: (
        "Tenant {tenant} has no Microsoft Graph resource for the scope {scope}: the tenant lives "
        "in another Microsoft cloud than the configured {cloud} one. Set the tenant's cloud: "
        f"`{_UPDATE} --cloud CLOUD` (global, usgov, usgov-dod, china)."
    ),
    AuthFailure.WRONG_CLOUD: (
        "Tenant {tenant} belongs to a national cloud, not to the configured {cloud} one "
        f"({{host}}): set its cloud with `{_UPDATE} --cloud CLOUD` (usgov, usgov-dod or china)."
    ),
    AuthFailure.THROTTLED: (
        "Entra ID is throttling token requests at {host}: licensewatch waits and retries; if it "
        "persists, sync fewer tenants at once with this app."
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
        retry_after: float | None = None,
    ) -> None:
        self.kind = kind
        self.message = message
        self.fix = fix
        self.aadsts = aadsts
        self.correlation_id = correlation_id
        # Seconds the token endpoint asked us to wait (its Retry-After), when it said.
        self.retry_after = retry_after
        super().__init__(message)

    @property
    def transient(self) -> bool:
        return self.kind in TRANSIENT_FAILURES
