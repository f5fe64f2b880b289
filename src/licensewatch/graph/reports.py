"""Microsoft 365 usage reports: the 302 to a pre-authenticated download, and report settings.

Graph answers a report request with `302 Found` whose Location is a short-lived download URL on
another host that needs no Authorization header (reportroot-getoffice365activeuserdetail on
Microsoft Learn). The download is fetched without the bearer token, with the same retries.
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urljoin, urlsplit

from licensewatch.graph.client import GraphClient
from licensewatch.graph.errors import GraphAuthorizationError, GraphProtocolError

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
REPORT_SETTINGS_PATH = "/admin/reportSettings"


class Report(StrEnum):
    """The per-user reports a collection reads (Graph v1.0 reportRoot functions)."""

    ACTIVE_USERS = "getOffice365ActiveUserDetail"
    APP_USERS = "getM365AppUserDetail"
    MAILBOXES = "getMailboxUsageDetail"


def report_path(report: Report, period: str) -> str:
    """`/reports/getOffice365ActiveUserDetail(period='D90')` (CSV, the documented default)."""
    return f"/reports/{report.value}(period='{period}')"


def download_report(client: GraphClient, report: Report, period: str) -> bytes:
    """The report's CSV bytes: follow Graph's redirect without the bearer token."""
    path = report_path(report, period)
    response = client.get_response(path, headers={"Accept": "text/csv, application/octet-stream"})
    status = response.status_code
    if status == 200:
        return response.content  # an endpoint that serves the file itself (no redirect)
    location = response.headers.get("location")
    if status not in _REDIRECTS or not location:
        raise GraphProtocolError(
            f"{report.value} answered HTTP {status} without a download location",
            status=status,
            request_id=response.headers.get("request-id"),
            url=client.url(path),
        )
    target = urljoin(client.url(path), location)
    if urlsplit(target).scheme != "https":
        raise GraphProtocolError(
            f"{report.value} redirected to a non-HTTPS address; refusing to download it",
            status=status,
            url=client.url(path),
        )
    try:
        download = client.get_preauthenticated(target, headers={"Accept": "*/*"})
    except GraphAuthorizationError as exc:
        # The link expired or was refused: a download problem, never a missing permission.
        raise GraphProtocolError(
            f"the {report.value} download link was refused ({exc.status}); it expires after a "
            "few minutes: the next collection asks for a new one",
            status=exc.status,
        ) from None
    if download.status_code != 200:
        raise GraphProtocolError(
            f"the {report.value} download answered HTTP {download.status_code}",
            status=download.status_code,
            url=client.url(path),  # the download URL itself is a credential: never shown
        )
    return download.content


def names_concealed(client: GraphClient) -> bool:
    """`displayConcealedNames` of the tenant's report settings (ReportSettings.Read.All)."""
    body = client.get_json(REPORT_SETTINGS_PATH)
    value = body.get("displayConcealedNames")
    if not isinstance(value, bool):
        raise GraphProtocolError(
            "admin/reportSettings has no boolean displayConcealedNames",
            url=client.url(REPORT_SETTINGS_PATH),
        )
    return value
