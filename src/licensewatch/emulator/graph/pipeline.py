"""What every Graph request goes through: token, tenant, faults, throttling, permissions."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from licensewatch.emulator.graph.errors import (
    GraphError,
    RequestIds,
    forbidden,
    from_error,
    graph_headers,
    request_ids,
    unauthorized,
)
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.state import Tenant, World
from licensewatch.emulator.tokens import InvalidToken, TokenIssuer, VerifiedToken

if TYPE_CHECKING:
    from licensewatch.emulator.faults import FaultInjector

IN_BATCH = "graph.in_batch"

# Application permissions that grant each endpoint; ReadWrite implies Read
# (learn.microsoft.com/graph/permissions-reference).
DIRECTORY = frozenset({"Directory.Read.All", "Directory.ReadWrite.All"})
USERS = DIRECTORY | {"User.Read.All", "User.ReadWrite.All"}
ORGANIZATION = DIRECTORY | {"Organization.Read.All", "Organization.ReadWrite.All"}
SKUS = ORGANIZATION | {"LicenseAssignment.Read.All", "LicenseAssignment.ReadWrite.All"}
GROUPS = DIRECTORY | {"Group.Read.All", "Group.ReadWrite.All", "GroupMember.Read.All"}
ORGANIZATION_READERS = ORGANIZATION | {"User.Read.All", "User.ReadWrite.All"}


@dataclass(frozen=True, slots=True)
class GraphContext:
    request: Request
    tenant: Tenant
    token: VerifiedToken
    ids: RequestIds
    service: GraphService

    def require(self, roles: frozenset[str]) -> None:
        if not roles & self.token.roles:
            raise forbidden()


Handler = Callable[[GraphContext], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


class GraphService:
    """Holds what handlers need and wraps each handler into a Starlette endpoint."""

    def __init__(
        self, world: World, issuer: TokenIssuer, injector: FaultInjector, options: EmulatorOptions
    ) -> None:
        self.world = world
        self.issuer = issuer
        self.injector = injector
        self.options = options
        # Change lists of follow-up delta rounds, by (id(tenant), tenant id, after, upto).
        self.delta_changes: OrderedDict[tuple[int, str, int, int], list[str]] = OrderedDict()

    def endpoint(self, handler: Handler, roles: frozenset[str]) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            return await self.run(request, handler, roles)

        return endpoint

    async def run(self, request: Request, handler: Handler, roles: frozenset[str]) -> Response:
        ids = request_ids(request)
        try:
            token = self.issuer.verify(request.headers.get("authorization"))
        except InvalidToken as exc:
            return unauthorized(request, exc.message)
        tenant = self.world.tenants.get(token.tenant_id.lower())
        if tenant is None:
            return unauthorized(request, "Access token validation failure.")
        request.scope["graph.user_count"] = tenant.user_count()
        early = await self.injector.before_graph_request(request, tenant.tenant_id, token.app_id)
        if early is not None:
            return early
        context = GraphContext(request, tenant, token, ids, self)
        try:
            context.require(roles)
            response = await handler(context)
        except GraphError as exc:
            response = from_error(request, exc)
        if response.status_code < 400 or response.status_code in {401, 403, 404}:
            response.headers["x-ms-resource-unit"] = str(self.injector.resource_units(request))
        percentage = request.scope.get("graph.throttle_percentage")
        if isinstance(percentage, str):
            response.headers["x-ms-throttle-limit-percentage"] = percentage
        if response.status_code == 200 and not request.scope.get(IN_BATCH):
            response = self.injector.wrap_response(request, bytes(response.body), response)
        return response


def text_response(text: str, ids: RequestIds) -> Response:
    return Response(text, 200, graph_headers(ids), media_type="text/plain")
