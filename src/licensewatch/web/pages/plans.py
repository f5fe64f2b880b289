"""Change plans: the list, one plan with its lines and savings; approve, apply, undo (admins)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from licensewatch.domain.plans import PlanRefused
from licensewatch.services.plans import (
    approve_plan,
    create_plan,
    set_write_access,
    undo_plan,
)
from licensewatch.services.tenant_lookup import TenantNotFound
from licensewatch.web.auth import AdminForm
from licensewatch.web.context import engine_of
from licensewatch.web.plan_views import (
    PlanId,
    actor_of,
    start_apply,
    visible_plan,
)
from licensewatch.web.scope import check

router = APIRouter()
NOTICES = {
    "approved": "Plan approved.",
    "applying": "Applying: each line's state updates as Microsoft answers. Reload to follow.",
    "undo": "Undo plan created and applying.",
}


@router.post("/plans/new")
async def new_plan(request: Request, caller: AdminForm) -> Response:
    """A draft plan of the tenant's current recommendations (the selected actions, or all)."""
    from licensewatch.intelligence.plan_recommendations import recommended_lines

    form = await request.form()
    tenant = str(form.get("tenant") or "")
    actions = [str(a) for a in form.getlist("action")]
    check(request, tenant)
    engine, actor = engine_of(request), actor_of(request, caller)

    def create() -> int:
        lines = recommended_lines(engine, tenant, actions)
        return create_plan(engine, tenant, lines, actor, "recommendations")

    try:
        plan_id = await run_in_threadpool(create)
    except (TenantNotFound, ValueError) as error:
        from urllib.parse import urlencode

        return RedirectResponse(f"/plans?{urlencode({'error': str(error.args[0])})}", 303)
    return RedirectResponse(f"/plans/{plan_id}", 303)


def _back(plan_id: int, **query: str) -> RedirectResponse:
    from urllib.parse import urlencode

    return RedirectResponse(f"/plans/{plan_id}?{urlencode(query)}", 303)


@router.post("/plans/{plan_id}/approve")
async def approve(plan_id: PlanId, request: Request, caller: AdminForm) -> Response:
    await run_in_threadpool(visible_plan, request, plan_id)
    try:
        await run_in_threadpool(
            approve_plan, engine_of(request), plan_id, actor_of(request, caller)
        )
    except PlanRefused as refused:
        return _back(plan_id, error=str(refused))
    return _back(plan_id, notice="approved")


@router.post("/plans/{plan_id}/apply")
async def apply(plan_id: PlanId, request: Request, caller: AdminForm) -> Response:
    plan = await run_in_threadpool(visible_plan, request, plan_id)
    if plan.status == "draft":
        return _back(plan_id, error="An administrator approves the plan first.")
    if not plan.writes_allowed:
        message = (
            f"Licence writes are off for tenant {plan.tenant}: turn them on in the tenant's "
            "settings (Licence writes) first."
        )
        return _back(plan_id, error=message)
    start_apply(request, plan_id, actor_of(request, caller))
    return _back(plan_id, notice="applying")


@router.post("/plans/{plan_id}/undo")
async def undo(plan_id: PlanId, request: Request, caller: AdminForm) -> Response:
    await run_in_threadpool(visible_plan, request, plan_id)
    engine, actor = engine_of(request), actor_of(request, caller)
    try:
        undo_id = await run_in_threadpool(undo_plan, engine, plan_id, actor)
    except PlanRefused as refused:
        return _back(plan_id, error=str(refused))
    start_apply(request, undo_id, actor)
    return _back(undo_id, notice="undo")


@router.post("/tenants/{name}/writes")
async def tenant_writes(name: str, request: Request, caller: AdminForm) -> Response:
    check(request, name)
    form = await request.form()
    allow, four_eyes = form.get("allow_writes") == "on", form.get("four_eyes") == "on"
    try:
        await run_in_threadpool(
            lambda: set_write_access(
                engine_of(request),
                name,
                actor_of(request, caller),
                allow_writes=allow,
                four_eyes=four_eyes,
            )
        )
    except TenantNotFound:
        raise HTTPException(404, f"No tenant named {name!r}.") from None
    from urllib.parse import quote

    return RedirectResponse(f"/tenants/{quote(name)}?notice=writes", 303)
