"""Microsoft 365 usage reports: report settings; the reports' download is `graph.download`'s."""

from __future__ import annotations

from licensewatch.graph.client import GraphClient
from licensewatch.graph.download import (  # re-exported: callers import them here
    DownloadInterrupted as DownloadInterrupted,
)
from licensewatch.graph.download import Report as Report
from licensewatch.graph.download import open_report as open_report
from licensewatch.graph.download import report_path as report_path
from licensewatch.graph.errors import GraphProtocolError

REPORT_SETTINGS_PATH = "/admin/reportSettings"


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
