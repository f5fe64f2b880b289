"""POST /v1.0/$batch: up to 20 requests run through the same handlers, answered out of order."""

from __future__ import annotations

import itertools
import random
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Message, Scope

from licensewatch.emulator.graph.errors import (
    GraphError,
    bad_request,
    error_body,
    from_error,
    json_response,
    request_ids,
    unauthorized,
)
from licensewatch.emulator.graph.pipeline import IN_BATCH, Endpoint, GraphService
from licensewatch.emulator.tokens import InvalidToken

MAX_REQUESTS = 20
# Item header names as Graph writes them (Starlette keeps them lower-case).
_CASED = {"retry-after": "Retry-After", "content-type": "Content-Type", "location": "Location"}
_HIDDEN = frozenset(
    {
        "content-length",
        "request-id",
        "client-request-id",
        "x-ms-ags-diagnostic",
        "strict-transport-security",
    }
)


def endpoint(service: GraphService, routes: list[BaseRoute]) -> Endpoint:
    counter = itertools.count()

    async def batch(request: Request) -> Response:
        try:
            service.issuer.verify(request.headers.get("authorization"))
        except InvalidToken as exc:
            return unauthorized(request, exc.message)
        try:
            items = _items(await request.body())
        except GraphError as exc:
            return from_error(request, exc)
        results: dict[str, dict[str, Any]] = {}
        for item in items:
            failed = [d for d in item.get("dependsOn", []) if results[d]["status"] >= 400]
            if failed:
                results[item["id"]] = _failed_dependency(request, item["id"], failed[0])
            else:
                results[item["id"]] = await _dispatch(request, routes, item)
        responses = list(results.values())
        random.Random(f"batch:{service.options.seed}:{next(counter)}").shuffle(responses)
        return json_response({"responses": responses}, request_ids(request))

    return batch


def _items(raw: bytes) -> list[dict[str, Any]]:
    """The validated `requests` array (400 for anything Graph would refuse as a whole)."""
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request("Invalid batch payload format.", "BadRequest") from exc
    items = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise bad_request("Invalid batch payload format.", "BadRequest")
    if len(items) > MAX_REQUESTS:
        raise bad_request(
            f"Number of batch requests exceeds the limit of {MAX_REQUESTS}.", "BadRequest"
        )
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(key), str) for key in ("id", "method", "url")
        ):
            raise bad_request("Invalid batch payload format.", "BadRequest")
        depends = item.get("dependsOn", [])
        if item["id"] in seen:
            raise bad_request(f"Batch request id '{item['id']}' is duplicated.", "BadRequest")
        if not isinstance(depends, list) or not all(d in seen for d in depends):
            raise bad_request(
                "Invalid dependsOn: a dependency must be an earlier request id.", "BadRequest"
            )
        if "body" in item and not isinstance(item.get("headers"), dict):
            raise bad_request("Headers are required when a request has a body.", "BadRequest")
        seen.add(item["id"])
    return items


def _failed_dependency(request: Request, item_id: str, dependency: str) -> dict[str, Any]:
    ids = request_ids(request)
    message = f"Request {item_id} depends on request {dependency}, which failed."
    return {
        "id": item_id,
        "status": 424,
        "headers": {"Content-Type": "application/json"},
        "body": error_body("FailedDependency", message, ids),
    }


def _sub_scope(request: Request, item: dict[str, Any]) -> Scope:
    url: str = item["url"]
    path, _, query = (url if url.startswith("/") else f"/{url}").partition("?")
    headers = {k.lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    for name in ("authorization", "host", "client-request-id"):
        if name in request.headers and name not in headers:
            headers[name] = request.headers[name]
    return {
        "type": "http",
        "http_version": "1.1",
        "method": item["method"].upper(),
        "scheme": request.url.scheme,
        "server": request.scope.get("server"),
        "client": request.scope.get("client"),
        "root_path": "",
        "path": f"/v1.0{path}",
        "raw_path": f"/v1.0{path}".encode(),
        "query_string": query.encode(),
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "app": request.scope.get("app"),
        IN_BATCH: True,
    }


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _dispatch(
    request: Request, routes: list[BaseRoute], item: dict[str, Any]
) -> dict[str, Any]:
    scope = _sub_scope(request, item)
    sub = Request(scope, _receive)
    response: Response | None = None
    for route in routes:
        match, child = route.matches(scope)
        if match == Match.FULL and isinstance(route, Route):
            scope.update(child)
            response = await route.endpoint(Request(scope, _receive))
            break
        if match == Match.PARTIAL:
            response = from_error(sub, GraphError(405, "Request_BadRequest", "Method not allowed."))
            break
    if response is None:
        segment = scope["path"].split("/")[2] if scope["path"].count("/") > 1 else ""
        response = from_error(
            sub, bad_request(f"Resource not found for the segment '{segment}'.", "BadRequest")
        )
    return _item_result(item["id"], response)


def _item_result(item_id: str, response: Response) -> dict[str, Any]:
    raw = bytes(response.body)
    headers = {_CASED.get(k, k): v for k, v in response.headers.items() if k.lower() not in _HIDDEN}
    headers["OData-Version"] = "4.0"
    content_type = response.headers.get("content-type", "")
    body: object = orjson.loads(raw) if "json" in content_type and raw else raw.decode()
    return {"id": item_id, "status": response.status_code, "headers": headers, "body": body}
