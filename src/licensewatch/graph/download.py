"""Report files streamed from Graph's pre-authenticated download URL, never held whole.

Graph answers a report request with `302 Found` whose Location is a short-lived download URL on
another host that needs no Authorization header (reportroot-getoffice365activeuserdetail on
Microsoft Learn). The download is fetched without the bearer token, with the same retries, and its
body is handed over in chunks as it arrives.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from enum import StrEnum
from urllib.parse import urljoin, urlsplit

import httpx

from licensewatch.graph.client import GraphClient
from licensewatch.graph.errors import GraphAuthorizationError, GraphProtocolError

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 256 * 1024  # bytes handed to the parser at a time


class DownloadInterrupted(GraphProtocolError):
    """The connection broke while a report's file was streaming: that report may be read again."""


class Report(StrEnum):
    """The per-user reports a collection reads (Graph v1.0 reportRoot functions)."""

    ACTIVE_USERS = "getOffice365ActiveUserDetail"
    APP_USERS = "getM365AppUserDetail"
    MAILBOXES = "getMailboxUsageDetail"


def report_path(report: Report, period: str) -> str:
    """`/reports/getOffice365ActiveUserDetail(period='D90')` (CSV, the documented default)."""
    return f"/reports/{report.value}(period='{period}')"


@contextmanager
def open_report(client: GraphClient, report: Report, period: str) -> Iterator[Iterator[bytes]]:
    """The report's CSV as byte chunks read as they arrive: Graph's redirect followed without the
    bearer token, the download streamed (a tenant's report is never held whole in memory).

    A connection lost while the body streams raises `DownloadInterrupted` (the caller may ask
    for the report again: a new link, the file from its start).
    """
    path = report_path(report, period)
    response = client.get_response(path, headers={"Accept": "text/csv, application/octet-stream"})
    status = response.status_code
    if status == 200:
        yield iter((response.content,))  # an endpoint that serves the file itself (no redirect)
        return
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
    with ExitStack() as stack:
        try:
            body = stack.enter_context(
                client.stream_preauthenticated(target, headers={"Accept": "*/*"})
            )
        except GraphAuthorizationError as exc:
            # The link expired or was refused: a download problem, never a missing permission.
            raise GraphProtocolError(
                f"the {report.value} download link was refused ({exc.status}); it expires after "
                "a few minutes: the next collection asks for a new one",
                status=exc.status,
            ) from None
        if body.status_code != 200:
            raise GraphProtocolError(
                f"the {report.value} download answered HTTP {body.status_code}",
                status=body.status_code,
                url=client.url(path),  # the download URL itself is a credential: never shown
            )
        yield _chunks(body, report, client.url(path))


def _chunks(body: httpx.Response, report: Report, url: str) -> Iterator[bytes]:
    try:
        yield from body.iter_bytes(_CHUNK)
    except httpx.HTTPError as exc:  # the connection broke mid-file: no retry can resume it here
        raise DownloadInterrupted(
            f"the {report.value} download was interrupted ({type(exc).__name__})", url=url
        ) from None
