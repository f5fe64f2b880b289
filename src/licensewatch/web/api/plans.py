"""API: change plans (read: any role in its scope; create, approve, apply, undo: admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from licensewatch.domain.identifiers import InvalidInput
from licensewatch.domain.plans import PlanRefused
from licensewatch.services.plans import approve_plan, create_plan, undo_plan
from licensewatch.services.tenant_lookup import TenantNotFound
from licensewatch.web.auth import ApiAdmin
from licensewatch.web.context import engine_of
from licensewatch.web.plan_views import PlanId, actor_of, start_apply, visible_plan
from licensewatch.web.scope import check

router = APIRouter(tags=["plans"])


class NewPlan(BaseModel):
    """From recommendations (optionally only some `actions`), or by hand: remove a SKU (or swap
    it, with `to`) for these users."""

    tenant: str = Field(max_length=200)
    from_recommendations: bool = False
    actions: list[str] = Field(default_factory=list, max_length=4)
    remove: str | None = Field(
        None, max_length=200, description="SKU id, part number or friendly name"
    )
    to: str | None = Field(None, max_length=200, description="swap to this SKU instead")
    users: list[str] = Field(default_factory=list, max_length=5000, description="UPNs or ids")


def _refused(error: Exception) -> HTTPException:
    return HTTPException(409 if isinstance(error, PlanRefused) else 422, str(error))


@router.post("/plans", status_code=201)
async def post_plan(body: NewPlan, request: Request, caller: ApiAdmin) -> dict[str, Any]:
    """Create a draft plan; lines are checked against the tenant's last sync."""
    from licensewatch.intelligence.plan_builder import manual_lines
    from licensewatch.intelligence.plan_recommendations import recommended_lines

    check(request, body.tenant)
    if body.from_recommendations == bool(body.remove):
        raise HTTPException(422, "give either from_recommendations or remove with users")
    if body.remove and not body.users:
        raise HTTPException(422, "remove needs users (userPrincipalNames or object ids)")
    engine = engine_of(request)

    def create() -> int:
        actor = actor_of(request, caller)
        if body.from_recommendations:
            lines = recommended_lines(engine, body.tenant, body.actions)
            return create_plan(engine, body.tenant, lines, actor, "recommendations")
        lines = manual_lines(engine, body.tenant, body.remove or "", body.users, body.to)
        return create_plan(engine, body.tenant, lines, actor)

    try:
        plan_id = await run_in_threadpool(create)
    except TenantNotFound:
        raise HTTPException(404, f"no tenant named {body.tenant!r}") from None
    except (InvalidInput, PlanRefused) as error:
        raise _refused(error) from None
    return {"id": plan_id}


@router.post("/plans/{plan_id}/approve")
async def post_approve(plan_id: PlanId, request: Request, caller: ApiAdmin) -> dict[str, Any]:
    """Approve a draft (four-eyes: not by its creator)."""
    await run_in_threadpool(visible_plan, request, plan_id)
    try:
        view = await run_in_threadpool(
            approve_plan, engine_of(request), plan_id, actor_of(request, caller)
        )
    except PlanRefused as refused:
        raise _refused(refused) from None
    return {"id": view.id, "status": view.status}


@router.post("/plans/{plan_id}/apply", status_code=202)
async def post_apply(plan_id: PlanId, request: Request, caller: ApiAdmin) -> dict[str, Any]:
    """Start applying an approved plan in the background; follow it with GET /plans/{id}."""
    plan = await run_in_threadpool(visible_plan, request, plan_id)
    if plan.status == "draft":
        raise HTTPException(409, "the plan is a draft: approve it first")
    if not plan.writes_allowed:
        raise HTTPException(409, f"licence writes are off for tenant {plan.tenant}")
    started = start_apply(request, plan_id, actor_of(request, caller))
    return {"id": plan_id, "started": started}


@router.post("/plans/{plan_id}/undo", status_code=202)
async def post_undo(plan_id: PlanId, request: Request, caller: ApiAdmin) -> dict[str, Any]:
    """Create the reverse plan of the applied lines (30 days) and start applying it."""
    await run_in_threadpool(visible_plan, request, plan_id)
    engine, actor = engine_of(request), actor_of(request, caller)
    try:
        undo_id = await run_in_threadpool(undo_plan, engine, plan_id, actor)
    except PlanRefused as refused:
        raise _refused(refused) from None
    start_apply(request, undo_id, actor)
    return {"id": undo_id, "reverses": plan_id}
