"""`/api/docs`: the REST API reference rendered from the OpenAPI document (CSP-clean)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from licensewatch.web.auth import session_caller
from licensewatch.web.templating import render

router = APIRouter()


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    operations = []
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            parameters = [
                {
                    "name": p["name"],
                    "where": p["in"],
                    "required": p.get("required", False),
                    "type": p.get("schema", {}).get("type")
                    or " | ".join(
                        str(s.get("type", "")) for s in p.get("schema", {}).get("anyOf", [])
                    ),
                }
                for p in operation.get("parameters", [])
            ]
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "tag": (operation.get("tags") or ["other"])[0],
                    "parameters": parameters,
                    "responses": sorted(operation.get("responses", {})),
                }
            )
    return operations


@router.get("/api/docs", include_in_schema=False)
def api_docs(request: Request) -> Response:
    schema = request.app.openapi()
    return render(
        request,
        "apidocs.html",
        session_caller(request),
        info=schema.get("info", {}),
        operations=_operations(schema),
    )
