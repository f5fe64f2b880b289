"""Handlers for /users: the paged collection, $count, one user, and licenseDetails."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import islice

import orjson
from starlette.responses import Response

from licensewatch.emulator.graph import upn_index
from licensewatch.emulator.graph.errors import (
    GraphError,
    bad_request,
    forbidden,
    json_response,
    not_found,
)
from licensewatch.emulator.graph.paging import (
    context_url,
    fingerprint,
    next_link,
    resume_position,
    same_link,
    take_page,
)
from licensewatch.emulator.graph.pipeline import GraphContext, text_response
from licensewatch.emulator.graph.query import (
    Predicate,
    is_eventual,
    parse_filter,
    parse_query,
    parse_select,
)
from licensewatch.emulator.graph.serialize import (
    USER_SPEC,
    UserSerializer,
    gc_paused,
    license_detail_id,
)

AUDIT_LOG = frozenset({"AuditLog.Read.All"})
SIGN_IN_PAGE_MAX = 500


def wants_sign_in(params: Mapping[str, str]) -> bool:
    return any("signinactivity" in params.get(name, "").lower() for name in ("$select", "$filter"))


def check_sign_in(context: GraphContext) -> None:
    """signInActivity needs AuditLog.Read.All and an Entra ID P1/P2 tenant (graph facts §2.3)."""
    if not AUDIT_LOG & context.token.roles:
        raise forbidden(
            "Calling principal does not have required MSGraph permissions AuditLog.Read.All",
            "Authentication_MSGraphPermissionMissing",
        )
    if not context.tenant.has_premium:
        raise forbidden(
            "Neither tenant is B2C or tenant doesn't have premium license",
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        )


async def list_users(context: GraphContext) -> Response:
    request, tenant = context.request, context.tenant
    params = request.query_params
    sign_in = wants_sign_in(params)
    if sign_in:
        check_sign_in(context)
    query = parse_query(
        params, request.headers, USER_SPEC, max_top=SIGN_IN_PAGE_MAX if sign_in else 999
    )
    fp = fingerprint("users", tenant.tenant_id, *query.fingerprint_parts())
    start = resume_position(request, fp)
    filter_text = params.get("$filter", "")
    if query.predicate is not None and upn_index.indexable(filter_text):
        positions = upn_index.matches(tenant, filter_text, query.predicate)
        page, nxt = upn_index.page(tenant, positions, start or 0, query.top)
    else:
        page, nxt = take_page(tenant.iter_users_from(start or 0), query.predicate, query.top)
    fragment = f"users({','.join(query.select)})" if query.explicit_select else "users"
    body: dict[str, object] = {"@odata.context": context_url(request, fragment)}
    if query.count and start is None:
        body["@odata.count"] = _count(context, query.predicate, filter_text)
    if nxt is not None:
        repeat = start is not None and context.service.injector.repeat_nextlink(request)
        body["@odata.nextLink"] = same_link(request) if repeat else next_link(request, fp, nxt)
    if start is not None and (repeat_count := context.service.injector.repeated_users(request)):
        # A fault: users already sent on the first page come back on a later one.
        firsts = islice(tenant.iter_users_from(0), repeat_count)
        page = [user for _, user in firsts] + list(page)
    serializer = UserSerializer(tenant, query.select)
    with gc_paused():
        body["value"] = [serializer.user(user) for user in page]
        content = orjson.dumps(body)
        del body
    return json_response(content, context.ids)


def _count(context: GraphContext, predicate: Predicate | None, filter_text: str) -> int:
    tenant = context.tenant
    if predicate is None:
        return tenant.user_count()
    if upn_index.indexable(filter_text):
        return len(upn_index.matches(tenant, filter_text, predicate))
    return sum(1 for _, user in tenant.iter_users_from(0) if predicate(user))


async def count_users(context: GraphContext) -> Response:
    """/users/$count: text/plain, advanced query only; Accept of JSON alone gets 415 (facts §3)."""
    request = context.request
    accept = request.headers.get("accept", "*/*").lower()
    if "application/json" in accept and "text/plain" not in accept and "*/*" not in accept:
        raise GraphError(
            415, "Request_UnsupportedMediaType", "The requested media type is not supported."
        )
    if not is_eventual(request.headers):
        raise bad_request("$count is not currently supported.")
    text = request.query_params.get("$filter", "").strip()
    predicate = parse_filter(text, USER_SPEC)[0] if text else None
    return text_response(str(_count(context, predicate, text)), context.ids)


async def get_user(context: GraphContext) -> Response:
    request = context.request
    key = request.path_params["key"]
    if wants_sign_in(request.query_params):
        check_sign_in(context)
    select, explicit = parse_select(request.query_params.get("$select"), USER_SPEC)
    user = context.tenant.user(key)
    if user is None:
        raise not_found(key)
    fragment = f"users({','.join(select)})/$entity" if explicit else "users/$entity"
    body: dict[str, object] = {"@odata.context": context_url(request, fragment)}
    body.update(UserSerializer(context.tenant, select).user(user))
    return json_response(body, context.ids)


async def license_details(context: GraphContext) -> Response:
    """Configurable: Microsoft's docs disagree on app-only access (graph facts §2.4)."""
    if not context.service.options.license_details_app_only:
        raise forbidden()
    key = context.request.path_params["key"]
    tenant = context.tenant
    user = tenant.user(key)
    if user is None:
        raise not_found(key)
    values = []
    for sku in user.assigned_sku_ids():
        product = tenant.products.get(sku)
        disabled = set(user.disabled_plans_for(sku))
        plans = product.service_plans if product else ()
        values.append(
            {
                "id": license_detail_id(user.id, sku),
                "skuId": sku,
                "skuPartNumber": product.part_number if product else None,
                "servicePlans": [
                    {
                        "servicePlanId": p.plan_id,
                        "servicePlanName": p.name,
                        "provisioningStatus": "Disabled" if p.plan_id in disabled else "Success",
                        "appliesTo": p.applies_to,
                    }
                    for p in plans
                ],
            }
        )
    fragment = f"users('{user.id}')/licenseDetails"
    body = {"@odata.context": context_url(context.request, fragment), "value": values}
    return json_response(body, context.ids)
