"""Graph error bodies and the headers every Graph response carries."""

# Shapes: learn.microsoft.com/graph/errors

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response

from licensewatch.emulator import state

ODATA_JSON = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)
AGS_DIAGNOSTIC = (
    '{"ServerInfo":{"DataCenter":"Emulator","Slice":"E","Ring":"5","ScaleUnit":"003",'
    '"RoleInstance":"EMU000001"}}'
)
WWW_AUTHENTICATE = (
    'Bearer realm="", '
    'authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'client_id="00000003-0000-0000-c000-000000000000"'
)
INSUFFICIENT_PRIVILEGES = "Insufficient privileges to complete the operation."


@dataclass(frozen=True, slots=True)
class RequestIds:
    request_id: str
    client_request_id: str


class GraphError(Exception):
    """Raised anywhere below a handler; the pipeline turns it into Graph's error body."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def request_ids(request: Request) -> RequestIds:
    """One id per request, kept in its scope; the client's id is echoed (ours when absent)."""
    cached = request.scope.get("graph.request_ids")
    if isinstance(cached, RequestIds):
        return cached
    own = str(uuid.uuid4())
    ids = RequestIds(own, request.headers.get("client-request-id") or own)
    request.scope["graph.request_ids"] = ids
    return ids


def graph_headers(ids: RequestIds) -> dict[str, str]:
    return {
        "request-id": ids.request_id,
        "client-request-id": ids.client_request_id,
        "x-ms-ags-diagnostic": AGS_DIAGNOSTIC,
        "Strict-Transport-Security": "max-age=31536000",
    }


def inner_error_date() -> str:
    # Graph's innerError.date carries no zone suffix.
    return state.utcnow().strftime("%Y-%m-%dT%H:%M:%S")


def error_body(code: str, message: str, ids: RequestIds) -> dict[str, object]:
    inner = {
        "date": inner_error_date(),
        "request-id": ids.request_id,
        "client-request-id": ids.client_request_id,
    }
    return {"error": {"code": code, "message": message, "innerError": inner}}


def json_response(
    body: object, ids: RequestIds, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A Graph JSON answer; `body` is a JSON-able value or bytes already encoded."""
    all_headers = graph_headers(ids)
    if headers:
        all_headers.update(headers)
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(content, status, all_headers, media_type=ODATA_JSON)


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    ids = request_ids(request)
    return json_response(error_body(code, message, ids), ids, status, headers)


def from_error(request: Request, error: GraphError) -> Response:
    return error_response(request, error.status, error.code, error.message, error.headers)


def unauthorized(request: Request, message: str) -> Response:
    return error_response(
        request, 401, "InvalidAuthenticationToken", message, {"WWW-Authenticate": WWW_AUTHENTICATE}
    )


def forbidden(
    message: str = INSUFFICIENT_PRIVILEGES, code: str = "Authorization_RequestDenied"
) -> GraphError:
    return GraphError(403, code, message)


def unsupported_query(message: str = "Unsupported Query.") -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", message)


def bad_request(message: str, code: str = "Request_BadRequest") -> GraphError:
    return GraphError(400, code, message)


def not_found(key: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )
