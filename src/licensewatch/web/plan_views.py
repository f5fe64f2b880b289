"""Change plans for pages and API: scope, friendly names, who acts, the apply thread."""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any

from fastapi import HTTPException, Path, Request
from sqlalchemy import Engine, select

from licensewatch.intelligence.catalog import product_names
from licensewatch.services.plans import Actor, PlanNotFound, PlanView, show_plan
from licensewatch.storage.database import session_scope
from licensewatch.storage.encrypted import keyring_for
from licensewatch.storage.models import Sku
from licensewatch.web.auth import Caller
from licensewatch.web.context import app_context, engine_of
from licensewatch.web.scope import check

log = logging.getLogger(__name__)
_applying: dict[int, threading.Thread] = {}
_lock = threading.Lock()


def actor_of(request: Request, caller: Caller) -> Actor:
    # The address as the sign-in records it (web/pages/login.client_address).
    return Actor(caller.principal.username, request.client.host if request.client else "unknown")


# A plan id as the database can hold it: a bigger number is a 422, never an overflow (500).
PlanId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def visible_plan(request: Request, plan_id: int) -> PlanView:
    """The plan, or 404 when it does not exist or its tenant is outside the caller's scope."""
    try:
        plan = show_plan(engine_of(request), plan_id)
    except PlanNotFound:
        raise HTTPException(404, f"No change plan {plan_id}.") from None
    try:
        check(request, plan.tenant)
    except HTTPException:
        raise HTTPException(404, f"No change plan {plan_id}.") from None
    return plan


def sku_names(engine: Engine, plan: PlanView) -> dict[str, str]:
    """Friendly product names of the SKUs a plan's lines name."""
    wanted = {s for line in plan.lines for s in (line.sku_id, line.target_sku_id) if s}
    with session_scope(engine, write=False) as session:
        parts = dict(session.execute(select(Sku.sku_id, Sku.sku_part_number)).all())
        names = product_names(session)
        return {sku: names.display_name(sku, parts.get(sku, sku)) for sku in wanted}


def plan_json(engine: Engine, plan: PlanView) -> dict[str, Any]:
    data = plan.to_dict()
    names = sku_names(engine, plan)
    for line in data["lines"]:
        line["product"] = names.get(line["sku_id"], line["sku_id"])
        target = line["target_sku_id"]
        line["target_product"] = names.get(target, target) if target else None
    return data


def start_apply(request: Request, plan_id: int, actor: Actor) -> bool:
    """Apply in a background thread (a plan of many users takes minutes); False if running."""
    from licensewatch.intelligence.read_models.build import publish_read_models
    from licensewatch.sync.plan_apply import apply_plan  # the pages need no sync engine to start

    context = app_context(request)
    engine, keyring = context.engine, keyring_for(context.engine, context.settings)

    def run() -> None:
        try:
            apply_plan(engine, plan_id, actor, keyring=keyring, on_publish=publish_read_models)
        except Exception:
            log.exception("applying change plan %s failed", plan_id)

    with _lock:
        current = _applying.get(plan_id)
        if current is not None and current.is_alive():
            return False
        thread = threading.Thread(target=run, name=f"plan-{plan_id}", daemon=True)
        _applying[plan_id] = thread
        thread.start()
        return True


def applying(plan_id: int) -> bool:
    with _lock:
        thread = _applying.get(plan_id)
        return thread is not None and thread.is_alive()
