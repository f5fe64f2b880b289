"""Usage reports and report settings as Graph serves them: a 302 to a short-lived download URL.

`GET /v1.0/reports/getOffice365ActiveUserDetail(period='D90')` (and the app and mailbox reports)
answers `302 Found` with a Location on another path that needs no Authorization header and expires
after a few minutes; the download is the CSV (application/octet-stream). Without Reports.Read.All
the report answers 403; `GET /v1.0/admin/reportSettings` needs ReportSettings.Read.All.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from licensewatch.emulator import usage_reports
from licensewatch.emulator.graph.errors import (
    bad_request,
    forbidden,
    graph_headers,
    json_response,
    not_found,
)
from licensewatch.emulator.graph.paging import context_url
from licensewatch.emulator.graph.pipeline import GraphContext, GraphService
from licensewatch.emulator.state import Tenant, World

REPORTS = frozenset({"Reports.Read.All"})
REPORT_SETTINGS = frozenset({"ReportSettings.Read.All", "ReportSettings.ReadWrite.All"})
DOWNLOAD_PREFIX = "/_reports/download/"
DOWNLOAD_SECONDS = 300  # "valid for a short period of time (a few minutes)"
_CALL = re.compile(r"^(\w+)\(period='(D7|D30|D90|D180)'\)$")
_RENDER: dict[str, Callable[[Tenant, int], bytes]] = {
    "getOffice365ActiveUserDetail": lambda tenant, _days: usage_reports.active_users_csv(tenant),
    "getM365AppUserDetail": usage_reports.app_users_csv,
    "getMailboxUsageDetail": usage_reports.mailbox_csv,
}


class Downloads:
    """Files waiting behind pre-authenticated URLs: token -> (report, bytes, expiry)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.pending: dict[str, tuple[str, bytes, float]] = {}

    def add(self, report: str, body: bytes) -> str:
        now = time.monotonic()
        self.pending = {k: v for k, v in self.pending.items() if v[2] > now}
        token = secrets.token_urlsafe(24)
        self.pending[token] = (report, body, now + DOWNLOAD_SECONDS)
        return token

    async def download(self, request: Request) -> Response:
        # Pre-authenticated: a bearer token here is a client leaking it; record what came.
        found = self.pending.get(request.path_params["token"])
        report = found[0] if found else "?"
        self.world.report_downloads.append((report, "authorization" in request.headers))
        if found is None or found[2] <= time.monotonic():
            return Response(
                b"<Error><Code>AuthenticationFailed</Code></Error>",
                403,
                media_type="application/xml",
            )
        return Response(found[1], 200, media_type="application/octet-stream")


def report_routes(service: GraphService) -> list[BaseRoute]:
    downloads = Downloads(service.world)

    async def report(context: GraphContext) -> Response:
        match = _CALL.match(context.request.path_params["call"])
        if match is None:
            raise bad_request("Invalid report function or period.", "BadRequest")
        name, period = match.groups()
        render = _RENDER.get(name)
        if render is None:
            raise not_found(name)
        if not REPORTS & context.token.roles:
            # What Graph's reports service answers an app without Reports.Read.All.
            raise forbidden("Invalid permission.", "S2SUnauthorized")
        token = downloads.add(name, render(context.tenant, int(period[1:])))
        url = context.request.url
        headers = graph_headers(context.ids)
        headers["Location"] = f"{url.scheme}://{url.netloc}{DOWNLOAD_PREFIX}{token}"
        return Response(b"", 302, headers, media_type="text/plain")

    async def report_settings(context: GraphContext) -> Response:
        body = {
            "@odata.context": context_url(context.request, "admin/reportSettings/$entity"),
            "id": "reportSettings",
            "displayConcealedNames": context.tenant.usage.concealed,
        }
        return json_response(body, context.ids)

    return [
        # The role check is the handler's: a 403 must name the reports service's error.
        Route("/v1.0/reports/{call}", service.endpoint(report, REPORTS | _ANY), methods=["GET"]),
        Route(
            "/v1.0/admin/reportSettings",
            service.endpoint(report_settings, REPORT_SETTINGS),
            methods=["GET"],
        ),
        Route(DOWNLOAD_PREFIX + "{token}", downloads.download, methods=["GET"]),
    ]


# Any consented role reaches the report handler, which answers the reports service's own 403.
_ANY = frozenset({"Directory.Read.All", "User.Read.All", "Organization.Read.All"})
