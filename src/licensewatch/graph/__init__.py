"""Microsoft Graph access: connection, MSAL tokens, retrying client, paging, diagnostics."""

from __future__ import annotations

from licensewatch.graph.auth import AccessToken, TokenProvider
from licensewatch.graph.client import GraphClient
from licensewatch.graph.clouds import Cloud
from licensewatch.graph.connection import (
    CertificateCredential,
    ClientSecretCredential,
    Credential,
    GraphConnection,
)
from licensewatch.graph.diagnostics import Check, CheckStatus, DiagnosticReport, diagnose
from licensewatch.graph.errors import (
    AuthError,
    AuthFailure,
    DeltaTokenExpired,
    GraphAuthorizationError,
    GraphError,
    GraphProtocolError,
    GraphThrottledError,
    GraphUnavailableError,
)
from licensewatch.graph.http import GraphStats, RequestInfo
from licensewatch.graph.paging import Page
from licensewatch.graph.retry import RetryPolicy, retry_delay

__all__ = [
    "AccessToken",
    "AuthError",
    "AuthFailure",
    "CertificateCredential",
    "Check",
    "CheckStatus",
    "ClientSecretCredential",
    "Cloud",
    "Credential",
    "DeltaTokenExpired",
    "DiagnosticReport",
    "GraphAuthorizationError",
    "GraphClient",
    "GraphConnection",
    "GraphError",
    "GraphProtocolError",
    "GraphStats",
    "GraphThrottledError",
    "GraphUnavailableError",
    "Page",
    "RequestInfo",
    "RetryPolicy",
    "TokenProvider",
    "diagnose",
    "retry_delay",
]
