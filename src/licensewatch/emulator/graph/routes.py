"""The Graph v1.0 route table, and handlers for organization, SKUs, subscriptions and groups."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from licensewatch.emulator.graph import (
    assign,
    batch,
    delta,
    membership,
    reports,
    resources,
    users,
)
from licensewatch.emulator.graph.errors import bad_request, error_response, json_response, not_found
from licensewatch.emulator.graph.paging import (
    context_url,
    fingerprint,
    next_link,
    resume_position,
    take_page,
)
from licensewatch.emulator.graph.pipeline import (
    GROUPS,
    ORGANIZATION,
    ORGANIZATION_READERS,
    SKUS,
    USERS,
    GraphContext,
    GraphService,
)
from licensewatch.emulator.graph.query import parse_query, parse_select
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.state import World
from licensewatch.emulator.tokens import TokenIssuer

if TYPE_CHECKING:
    from licensewatch.emulator.faults import FaultInjector


def _only_select(context: GraphContext) -> None:
    """subscribedSkus and friends support $select only (graph/api/subscribedsku-list on Learn)."""
    for name in context.request.query_params:
        if name.startswith("$") and name != "$select":
            raise bad_request(
                f"Query option '{name}' is not supported for this resource.", "BadRequest"
            )


def _pick(item: dict[str, object], raw: str | None) -> dict[str, object]:
    if not raw:
        return item
    wanted = [part.strip().lower() for part in raw.split(",") if part.strip()]
    by_lower = {key.lower(): key for key in item}
    unknown = [name for name in wanted if name not in by_lower]
    if unknown:
        raise bad_request(
            f"Could not find a property named '{unknown[0]}' on this type.", "BadRequest"
        )
    return {by_lower[name]: item[by_lower[name]] for name in wanted}


async def organization(context: GraphContext) -> Response:
    _only_select(context)
    select = context.request.query_params.get("$select")
    body = {
        "@odata.context": context_url(context.request, "organization"),
        "value": [_pick(resources.organization(context.tenant), select)],
    }
    return json_response(body, context.ids)


async def subscribed_skus(context: GraphContext) -> Response:
    _only_select(context)
    tenant, select = context.tenant, context.request.query_params.get("$select")
    consumed = tenant.consumed_units()
    items = [resources.subscribed_sku(tenant, p, consumed) for p in tenant.products.values()]
    body = {
        "@odata.context": context_url(context.request, "subscribedSkus"),
        "value": [_pick(item, select) for item in items],
    }
    return json_response(body, context.ids)


async def subscribed_sku(context: GraphContext) -> Response:
    _only_select(context)
    tenant, key = context.tenant, context.request.path_params["key"]
    prefix, _, sku_id = key.partition("_")
    product = tenant.products.get(sku_id.lower()) if prefix.lower() == tenant.tenant_id else None
    if product is None:
        raise not_found(key)
    item = resources.subscribed_sku(tenant, product, tenant.consumed_units())
    body: dict[str, object] = {
        "@odata.context": context_url(context.request, "subscribedSkus/$entity")
    }
    body.update(_pick(item, context.request.query_params.get("$select")))
    return json_response(body, context.ids)


async def subscriptions(context: GraphContext) -> Response:
    tenant, select = context.tenant, context.request.query_params.get("$select")
    body = {
        "@odata.context": context_url(context.request, "directory/subscriptions"),
        "value": [_pick(resources.subscription(tenant, s), select) for s in tenant.subscriptions],
    }
    return json_response(body, context.ids)


async def subscription(context: GraphContext) -> Response:
    tenant, key = context.tenant, context.request.path_params["key"]
    found = next((s for s in tenant.subscriptions if s.id.lower() == key.lower()), None)
    if found is None:
        raise not_found(key)
    body: dict[str, object] = {
        "@odata.context": context_url(context.request, "directory/subscriptions/$entity")
    }
    body.update(
        _pick(resources.subscription(tenant, found), context.request.query_params.get("$select"))
    )
    return json_response(body, context.ids)


async def groups(context: GraphContext) -> Response:
    request, tenant = context.request, context.tenant
    query = parse_query(request.query_params, request.headers, resources.GROUP_SPEC)
    fp = fingerprint("groups", tenant.tenant_id, *query.fingerprint_parts())
    start = resume_position(request, fp)
    ordered = list(tenant.groups.values())
    page, nxt = take_page(enumerate(ordered[start or 0 :], start or 0), query.predicate, query.top)
    fragment = f"groups({','.join(query.select)})" if query.explicit_select else "groups"
    body: dict[str, object] = {"@odata.context": context_url(request, fragment)}
    if query.count and start is None:
        body["@odata.count"] = sum(
            1 for g in ordered if query.predicate is None or query.predicate(g)
        )
    if nxt is not None:
        body["@odata.nextLink"] = next_link(request, fp, nxt)
    body["value"] = [resources.group(g, query.select) for g in page]
    return json_response(body, context.ids)


async def group(context: GraphContext) -> Response:
    key = context.request.path_params["key"]
    found = context.tenant.groups.get(key)
    if found is None:
        raise not_found(key)
    select, explicit = parse_select(
        context.request.query_params.get("$select"), resources.GROUP_SPEC
    )
    fragment = f"groups({','.join(select)})/$entity" if explicit else "groups/$entity"
    body: dict[str, object] = {"@odata.context": context_url(context.request, fragment)}
    body.update(resources.group(found, select))
    return json_response(body, context.ids)


async def unknown_segment(request: Request) -> Response:
    segment = request.path_params["rest"].split("/", 1)[0]
    return error_response(
        request, 400, "BadRequest", f"Resource not found for the segment '{segment}'."
    )


def graph_routes(
    world: World, issuer: TokenIssuer, injector: FaultInjector, options: EmulatorOptions
) -> list[BaseRoute]:
    """Graph v1.0 routes, mounted at the root (paths start with /v1.0)."""
    service = GraphService(world, issuer, injector, options)
    table = [
        ("/v1.0/organization", organization, ORGANIZATION_READERS),
        ("/v1.0/subscribedSkus", subscribed_skus, SKUS),
        ("/v1.0/subscribedSkus/{key}", subscribed_sku, SKUS),
        ("/v1.0/directory/subscriptions", subscriptions, ORGANIZATION),
        ("/v1.0/directory/subscriptions/{key}", subscription, ORGANIZATION),
        ("/v1.0/users", users.list_users, USERS),
        ("/v1.0/users/$count", users.count_users, USERS),
        ("/v1.0/users/delta", delta.users_delta, USERS),
        ("/v1.0/users/delta()", delta.users_delta, USERS),
        ("/v1.0/users/{key}", users.get_user, USERS),
        ("/v1.0/users/{key}/licenseDetails", users.license_details, USERS),
        ("/v1.0/groups", groups, GROUPS),
        ("/v1.0/groups/{key}", group, GROUPS),
    ]
    routes: list[BaseRoute] = [
        Route(path, service.endpoint(handler, roles), methods=["GET"])
        for path, handler, roles in table
    ]
    routes += reports.report_routes(service)
    routes.append(Route("/v1.0/$batch", batch.endpoint(service, list(routes)), methods=["POST"]))
    check_groups = service.endpoint(membership.check_member_groups, membership.MEMBERSHIP)
    routes.append(Route("/v1.0/users/{key}/checkMemberGroups", check_groups, methods=["POST"]))
    assign_license = service.endpoint(assign.assign_license, assign.WRITERS)
    routes.append(Route("/v1.0/users/{key}/assignLicense", assign_license, methods=["POST"]))
    routes.append(Route("/v1.0/{rest:path}", unknown_segment, methods=["GET", "POST"]))
    return routes
