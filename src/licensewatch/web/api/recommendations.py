"""API: per-user licence recommendations and each tenant's usage-report state (as of, gaps)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlalchemy.orm import Session

from licensewatch.intelligence.recommendations import Action, Confidence, usage_states
from licensewatch.intelligence.savings import Filters
from licensewatch.web import scope
from licensewatch.web.auth import ApiCaller
from licensewatch.web.context import engine_of, reader
from licensewatch.web.pages.savings import visible_savings
from licensewatch.web.queries.common import tenant_refs

router = APIRouter(prefix="/api/v1", tags=["recommendations"])
Reader = Annotated[Session, Depends(reader)]
MAX_LIMIT = 5000
NEXT_CURSOR = "X-Next-Cursor"


def _choice(value: str | None, allowed: type[Action] | type[Confidence], name: str) -> None:
    if value is not None and value not in {item.value for item in allowed}:
        choices = ", ".join(item.value for item in allowed)
        raise HTTPException(422, f"{name} must be one of {choices}")


@router.get("/recommendations")
def get_recommendations(
    request: Request,
    response: Response,
    caller: ApiCaller,
    session: Reader,
    tenant: str | None = None,
    action: str | None = None,
    confidence: str | None = None,
    cursor: str | None = None,
    limit: int = 1000,
) -> list[Any]:
    """Licence actions per user (remove, downgrade, remove_duplicate, remove_addon), most money
    first, each with reason, evidence, confidence and the monthly and yearly saving. At most
    `limit` (up to 5000) per call: the `X-Next-Cursor` header (and a `Link: rel="next"`) starts the
    next page, passed back as `cursor` with the same filters; 409 when recomputed since."""
    _choice(action, Action, "action")
    _choice(confidence, Confidence, "confidence")
    if not 0 <= limit <= MAX_LIMIT:
        raise HTTPException(422, f"limit must be between 0 and {MAX_LIMIT}")
    if tenant and not tenant_refs(session, tenant):
        raise HTTPException(404, f"no tenant named {tenant!r}")
    filters = Filters(action, None, confidence)
    shown = visible_savings(request, session, tenant or "", filters, limit=limit, cursor=cursor)
    if shown.next_cursor is not None:
        response.headers[NEXT_CURSOR] = shown.next_cursor
        following = request.url.include_query_params(cursor=shown.next_cursor)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return [r.to_dict() for r in shown.items]


@router.get("/usage")
def get_usage(request: Request, caller: ApiCaller, tenant: str | None = None) -> list[Any]:
    """Per tenant: usage reports as of which date, or why there are none and the fix."""
    engine = engine_of(request)
    try:
        states = scope.per_tenant(request, tenant, lambda t: usage_states(engine, t))
    except LookupError as error:
        raise HTTPException(404, str(error).strip("'\"")) from None
    return [state.to_dict() for state in states]
