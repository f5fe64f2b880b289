"""POST /users/{id}/assignLicense: Microsoft's validation and error bodies, then the change."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.responses import Response

from licensewatch.emulator.graph.errors import bad_request, json_response, not_found
from licensewatch.emulator.graph.paging import context_url
from licensewatch.emulator.graph.pipeline import GraphContext
from licensewatch.emulator.graph.serialize import USER_DEFAULTS, UserSerializer
from licensewatch.emulator.licence_rules import Added, LicenceRefused, apply

# Application permissions that may call it, least privileged first (Microsoft's
# user-assignlicense-permissions table): the read roles are not enough (403).
WRITERS = frozenset(
    {"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_PARAMETERS = ("addLicenses", "removeLicenses")


def _guid(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _GUID.match(value):
        raise bad_request(
            f"Invalid value specified for property '{what}' of resource 'AssignedLicense'."
        )
    return value.lower()


def parse_body(raw: bytes) -> tuple[list[Added], list[str]]:
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        raise bad_request("Invalid JSON body.", "BadRequest") from None
    if not isinstance(body, dict):
        raise bad_request("Empty Payload. JSON content expected.", "BadRequest")
    missing = [name for name in _PARAMETERS if name not in body]
    if missing:
        raise bad_request(
            "One or more parameters of the function import 'assignLicense' are missing from the "
            f"request payload. The missing parameters are: {', '.join(missing)}.",
            "BadRequest",
        )
    adds, removes = body["addLicenses"], body["removeLicenses"]
    if not isinstance(adds, list) or not isinstance(removes, list):
        raise bad_request("addLicenses and removeLicenses must be collections.", "BadRequest")
    added = []
    for item in adds:
        if not isinstance(item, dict):
            raise bad_request("Invalid value specified for property 'addLicenses'.")
        plans = item.get("disabledPlans") or []
        if not isinstance(plans, list):
            raise bad_request("Invalid value specified for property 'disabledPlans'.")
        added.append(
            Added(
                _guid(item.get("skuId"), "skuId"),
                tuple(sorted({_guid(p, "disabledPlans") for p in plans})),
            )
        )
    return added, [_guid(sku, "removeLicenses") for sku in removes]


async def assign_license(context: GraphContext) -> Response:
    key = context.request.path_params["key"]
    added, removed = parse_body(await context.request.body())
    tenant = context.tenant
    user = tenant.user(key)
    if user is None:
        raise not_found(key)
    try:
        apply(tenant, user, added, removed)
    except LicenceRefused as refused:
        raise bad_request(str(refused)) from None
    body: dict[str, object] = {"@odata.context": context_url(context.request, "users/$entity")}
    body.update(UserSerializer(tenant, (*USER_DEFAULTS, "assignedLicenses")).user(user))
    return json_response(body, context.ids)
