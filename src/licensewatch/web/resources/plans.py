"""Change plans, read side: the list and one plan with its lines (writes: web/api/plans.py)."""

from __future__ import annotations

from typing import Any

from licensewatch.services.plans import PlanView, list_plans
from licensewatch.services.tenants import TenantService
from licensewatch.web.context import caller_scope, engine_of
from licensewatch.web.plan_views import PlanId, applying, plan_json, sku_names, visible_plan
from licensewatch.web.scope import visible
from licensewatch.web.twins import Ask, NoParams, Resource

NOTICES = {
    "approved": "Plan approved.",
    "applying": "Applying: each line's state updates as Microsoft answers. Reload to follow.",
    "undo": "Undo plan created and applying.",
}


def load_plans(ask: Ask[NoParams]) -> list[PlanView]:
    scope = caller_scope(ask.request)
    return list_plans(engine_of(ask.request), sorted(scope) if scope is not None else None)


def plans_page(ask: Ask[NoParams], plans: list[PlanView]) -> dict[str, Any]:
    names = [t.name for t in TenantService(engine_of(ask.request)).list()]
    # `error`: a refused "new plan" form, after its redirect (a message, not a filter).
    error = ask.request.query_params.get("error", "")
    return {"plans": plans, "tenants": visible(ask.request, names), "error": error}


def load_plan(ask: Ask[NoParams]) -> PlanView:
    return visible_plan(ask.request, ask.path["plan_id"])


def plan_page(ask: Ask[NoParams], plan: PlanView) -> dict[str, Any]:
    flash = ask.request.query_params  # after an approve, apply or undo form's redirect
    return {
        "nav": "/plans",
        "plan": plan,
        "names": sku_names(engine_of(ask.request), plan),
        "running": applying(plan.id),
        "notice": NOTICES.get(flash.get("notice", ""), ""),
        "error": flash.get("error", ""),
    }


PLANS = Resource(
    name="get_plans",
    response_model=list[dict[str, Any]],
    api_path="/plans",
    page_path="/plans",
    params=NoParams,
    load=load_plans,
    dump=lambda ask, plans: [plan.to_dict() for plan in plans],
    template="plans.html",
    page=plans_page,
    tag="plans",
    doc="Change plans, newest first (status, saving, line counts by state).",
)
PLAN = Resource(
    name="get_plan",
    response_model=dict[str, Any],
    api_path="/plans/{plan_id}",
    page_path="/plans/{plan_id}",
    params=NoParams,
    load=load_plan,
    dump=lambda ask, plan: plan_json(engine_of(ask.request), plan),
    template="plan.html",
    page=plan_page,
    tag="plans",
    path_types={"plan_id": PlanId},
    doc="One plan with its lines: change, saving, state, Graph's request-id or error.",
)
