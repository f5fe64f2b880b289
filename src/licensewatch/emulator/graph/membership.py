"""POST /users/{id}/checkMemberGroups: which of the given groups a user belongs to (overage)."""

from __future__ import annotations

import orjson
from starlette.responses import Response

from licensewatch.emulator.graph.errors import bad_request, json_response, not_found
from licensewatch.emulator.graph.pipeline import DIRECTORY, GraphContext

# Least privileged first (Microsoft's directoryobject-checkmembergroups permissions table).
MEMBERSHIP = DIRECTORY | {"GroupMember.Read.All", "Group.Read.All"}
MAX_GROUP_IDS = 20  # Graph accepts at most 20 group ids per call


async def check_member_groups(context: GraphContext) -> Response:
    user = context.tenant.user(context.request.path_params["key"])
    if user is None:
        raise not_found(context.request.path_params["key"])
    try:
        body = orjson.loads(await context.request.body())
    except orjson.JSONDecodeError:
        raise bad_request("Invalid JSON body.", "BadRequest") from None
    wanted = body.get("groupIds") if isinstance(body, dict) else None
    if not isinstance(wanted, list) or not all(isinstance(g, str) for g in wanted):
        raise bad_request("groupIds must be a list of group ids.", "Request_BadRequest")
    if len(wanted) > MAX_GROUP_IDS:
        raise bad_request("Too many groupIds: at most 20 per request.", "Request_BadRequest")
    groups = context.tenant.groups
    found = [g for g in wanted if g in groups and user.id in groups[g].member_ids]
    payload = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)",
        "value": found,
    }
    return json_response(payload, context.ids)
