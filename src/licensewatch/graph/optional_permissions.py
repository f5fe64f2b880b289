"""Optional permissions `tenant test` reports: what each unlocks, and the Entra step to add it.

Without them everything else works; with Reports.Read.All licensewatch reads the usage reports
(usage-based recommendations), with ReportSettings.Read.All it can tell whether the tenant
conceals user names in reports (adminreportsettings-get on Microsoft Learn).
"""

from __future__ import annotations

from dataclasses import dataclass

from licensewatch.graph.auth import AuthError
from licensewatch.graph.client import GraphClient
from licensewatch.graph.connection import GraphConnection
from licensewatch.graph.diagnostics_model import Check, CheckStatus
from licensewatch.graph.errors import GraphError
from licensewatch.graph.reports import names_concealed

CONCEALED_FIX = (
    "In the Microsoft 365 admin center, go to Settings > Org settings > Services > Reports and "
    "clear 'Display concealed user, group, and site names in all reports'. Until then "
    "licensewatch keeps tenant-wide usage counts but makes no per-user usage recommendation "
    "(it never guesses which hashed name is which user)."
)


@dataclass(frozen=True)
class OptionalPermission:
    role: str
    key: str
    title: str
    unlocks: str


OPTIONAL = (
    OptionalPermission(
        "Reports.Read.All",
        "reports_permission",
        "Read usage reports (optional: Reports.Read.All)",
        "usage-based recommendations: remove licences nobody uses, downgrade suites whose extra "
        "plans go unused (Microsoft 365 usage reports: active users, apps, mailboxes)",
    ),
    OptionalPermission(
        "ReportSettings.Read.All",
        "report_settings_permission",
        "Read report settings (optional: ReportSettings.Read.All)",
        "telling whether the tenant conceals user names in usage reports, and which setting to "
        "change (without it, concealment is inferred from the report rows)",
    ),
)


def _fix(connection: GraphConnection, role: str) -> str:
    return (
        "Optional: in Entra ID > App registrations > <app> > API permissions, click 'Add a "
        f"permission' > Microsoft Graph > Application permissions > {role}, then click "
        f"'Grant admin consent for {connection.tenant}'."
    )


def optional_checks(
    client: GraphClient, connection: GraphConnection, roles: list[str]
) -> list[Check]:
    """A ✓ or ! per optional permission, and whether report names are concealed."""
    checks: list[Check] = []
    for permission in OPTIONAL:
        if permission.role in roles:
            detail = f"granted: unlocks {permission.unlocks}"
            checks.append(Check(permission.key, permission.title, CheckStatus.OK, detail))
        else:
            detail = f"not granted; it would unlock {permission.unlocks}"
            fix = _fix(connection, permission.role)
            checks.append(Check(permission.key, permission.title, CheckStatus.WARN, detail, fix))
    if "ReportSettings.Read.All" in roles:
        checks.append(_concealed_check(client))
    return checks


def _concealed_check(client: GraphClient) -> Check:
    title = "User names in usage reports"
    try:
        concealed = names_concealed(client)
    except (GraphError, AuthError) as exc:
        detail = f"report settings unreadable: {exc}"
        return Check("concealed_names", title, CheckStatus.WARN, detail)
    if concealed:
        detail = "concealed: report rows carry hashed names that cannot be matched to users"
        return Check("concealed_names", title, CheckStatus.WARN, detail, CONCEALED_FIX)
    return Check("concealed_names", title, CheckStatus.OK, "shown: usage joins to users")
