"""/users/delta: an initial round in pages, then changes since a version, with expiring tokens."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from licensewatch.emulator import state
from licensewatch.emulator.graph.errors import GraphError, bad_request, json_response
from licensewatch.emulator.graph.paging import (
    build_url,
    context_url,
    decode_token,
    encode_token,
    take_page,
    token_int,
)
from licensewatch.emulator.graph.pipeline import GraphContext
from licensewatch.emulator.graph.query import parse_select
from licensewatch.emulator.graph.serialize import USER_SPEC, UserSerializer

PAGE_SIZE = 200  # Graph picks delta page sizes itself; $top is not supported on users/delta
PATH = "/v1.0/users/delta"
_BAD_TOKEN = bad_request("The delta token or skip token is not valid.", "BadRequest")
_SIGN_IN = (
    "Invalid request for delta query: for this entity set, $expand/$select is not supported "
    "for the following properties: signInActivity"
)


def _changed(context: GraphContext, after: int, upto: int) -> list[str]:
    """The change list of a follow-up round, computed once per app and reused by its pages."""
    tenant = context.tenant
    cache = context.service.delta_changes
    # id(tenant) too: a world reset may bring back a tenant with the same id and fresh versions.
    key = (id(tenant), tenant.tenant_id, after, upto)
    ids = cache.get(key)
    if ids is None:
        ids = cache[key] = tenant.changed_between(after, upto)
        while len(cache) > 64:
            cache.popitem(last=False)
    return ids


def _select(context: GraphContext) -> tuple[tuple[str, ...], bool]:
    params = context.request.query_params
    for name in ("$top", "$orderby", "$expand", "$filter"):
        if name in params:
            raise bad_request(
                f"Query option '{name}' is not supported with delta query.", "BadRequest"
            )
    select, explicit = parse_select(params.get("$select"), USER_SPEC)
    if "signInActivity" in select:
        raise bad_request(_SIGN_IN, "BadRequest")
    return select, explicit


def _gone(context: GraphContext, select: list[str]) -> GraphError:
    params = [("$select", ",".join(select))] if select else []
    location = build_url(context.request, PATH, [*params, ("$deltatoken", "")])
    return GraphError(
        410,
        "syncStateNotFound",
        "The sync state generation is not found. The delta token is expired and data must be "
        "synchronized again.",
        {"Location": location},
    )


def _payload(context: GraphContext, raw: str) -> dict[str, Any]:
    payload = decode_token(raw, _BAD_TOKEN)
    select = payload.get("s")
    if not isinstance(select, list) or not all(s in USER_SPEC.properties for s in select):
        raise _BAD_TOKEN
    issued = payload.get("t")
    if not isinstance(issued, int | float):
        raise _BAD_TOKEN
    age = state.utcnow().timestamp() - issued
    if token_int(payload, "e", _BAD_TOKEN) < context.tenant.delta_epoch:
        raise _gone(context, select)
    if age > context.service.world.delta_token_max_age_seconds:
        raise _gone(context, select)
    return payload


async def users_delta(context: GraphContext) -> Response:
    params = context.request.query_params
    tenant = context.tenant
    skiptoken, deltatoken = params.get("$skiptoken"), params.get("$deltatoken")
    now = state.utcnow().timestamp()
    if skiptoken:
        payload = _payload(context, skiptoken)
    elif deltatoken and deltatoken.lower() != "latest":
        payload = _payload(context, deltatoken)
        payload = {**payload, "k": "c", "b": payload["v"], "u": tenant.version, "o": 0, "t": now}
    else:
        select, explicit = _select(context)
        base = {"s": list(select) if explicit else [], "e": tenant.delta_epoch, "t": now}
        if deltatoken:  # "latest": no data, just a deltaLink from now on
            return _answer(context, [], base | {"k": "d", "v": tenant.version}, done=True)
        payload = base | {"k": "s", "p": 0, "v": tenant.version}
    if payload.get("k") == "s":
        return _initial_page(context, payload)
    if payload.get("k") == "c":
        return _changes_page(context, payload)
    raise _BAD_TOKEN


def _initial_page(context: GraphContext, payload: dict[str, Any]) -> Response:
    position = token_int(payload, "p", _BAD_TOKEN)
    page, nxt = take_page(context.tenant.iter_users_from(position), None, PAGE_SIZE)
    serializer = UserSerializer(context.tenant, _fields(payload["s"]))
    values = [_tracked(context, serializer.user(user)) for user in page]
    if nxt is None:
        return _answer(context, values, _delta_token(payload, payload["v"]), done=True)
    return _answer(context, values, payload | {"p": nxt}, done=False)


def _changes_page(context: GraphContext, payload: dict[str, Any]) -> Response:
    after, upto = token_int(payload, "b", _BAD_TOKEN), token_int(payload, "u", _BAD_TOKEN)
    offset = token_int(payload, "o", _BAD_TOKEN)
    ids = _changed(context, after, upto)
    serializer = UserSerializer(context.tenant, _fields(payload["s"]))
    values: list[dict[str, Any]] = []
    for uid in ids[offset : offset + PAGE_SIZE]:
        user = context.tenant.user(uid)
        if user is None or user.id != uid:
            reason = context.tenant.removal_reason(uid)
            values.append({"id": uid, "@removed": {"reason": reason}})
        else:
            values.append(_tracked(context, serializer.user(user)))
    if offset + PAGE_SIZE >= len(ids):
        return _answer(context, values, _delta_token(payload, upto), done=True)
    return _answer(context, values, payload | {"o": offset + PAGE_SIZE}, done=False)


def _tracked(context: GraphContext, item: dict[str, Any]) -> dict[str, Any]:
    """An item as delta serves it: without licenseAssignmentStates when Graph leaves it out."""
    if not context.service.options.delta_license_states:
        item.pop("licenseAssignmentStates", None)
    return item


def _fields(select: list[str]) -> tuple[str, ...]:
    if not select:
        return USER_SPEC.defaults
    return tuple(select) if "id" in select else ("id", *select)


def _delta_token(payload: dict[str, Any], version: int) -> dict[str, Any]:
    return {"k": "d", "v": version, "s": payload["s"], "e": payload["e"]}


def _answer(
    context: GraphContext, values: list[dict[str, Any]], token: dict[str, Any], *, done: bool
) -> Response:
    request = context.request
    select = token["s"]
    fragment = f"users({','.join(select)})" if select else "users"
    body: dict[str, object] = {"@odata.context": context_url(request, fragment)}
    if done:
        minted = token | {"t": state.utcnow().timestamp()}
        body["@odata.deltaLink"] = build_url(request, PATH, [("$deltatoken", encode_token(minted))])
    else:
        body["@odata.nextLink"] = build_url(request, PATH, [("$skiptoken", encode_token(token))])
    body["value"] = values
    return json_response(body, context.ids)
