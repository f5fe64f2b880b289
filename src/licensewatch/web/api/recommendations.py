"""API: per-user licence recommendations and each tenant's usage-report state (as of, gaps)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from licensewatch.intelligence.recommendations import (
    Action,
    Confidence,
    tenant_recommendations,
    usage_states,
)
from licensewatch.web import scope
from licensewatch.web.auth import ApiCaller
from licensewatch.web.context import engine_of

router = APIRouter(prefix="/api/v1", tags=["recommendations"])


def _choice(value: str | None, allowed: type[Action] | type[Confidence], name: str) -> None:
    if value is not None and value not in {item.value for item in allowed}:
        choices = ", ".join(item.value for item in allowed)
        raise HTTPException(422, f"{name} must be one of {choices}")


@router.get("/recommendations")
def get_recommendations(
    request: Request,
    caller: ApiCaller,
    tenant: str | None = None,
    action: str | None = None,
    confidence: str | None = None,
) -> list[Any]:
    """Licence actions per user (remove, downgrade, remove_duplicate, remove_addon), most money
    first, each with reason, evidence, confidence and the monthly and yearly saving."""
    _choice(action, Action, "action")
    _choice(confidence, Confidence, "confidence")
    engine = engine_of(request)
    try:
        found = scope.per_tenant(request, tenant, lambda t: tenant_recommendations(engine, t))
    except LookupError as error:
        raise HTTPException(404, str(error).strip("'\"")) from None
    return [
        r.to_dict()
        for r in found
        if (action is None or r.action == action)
        and (confidence is None or r.confidence == confidence)
    ]


@router.get("/usage")
def get_usage(request: Request, caller: ApiCaller, tenant: str | None = None) -> list[Any]:
    """Per tenant: usage reports as of which date, or why there are none and the fix."""
    engine = engine_of(request)
    try:
        states = scope.per_tenant(request, tenant, lambda t: usage_states(engine, t))
    except LookupError as error:
        raise HTTPException(404, str(error).strip("'\"")) from None
    return [state.to_dict() for state in states]
