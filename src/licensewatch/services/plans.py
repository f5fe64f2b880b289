"""Change plans' use cases: store a plan, approve it, build its undo plan, the write settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from licensewatch.domain.plans import (
    DONE_STATES,
    LineSpec,
    LineState,
    PlanRefused,
    PlanStatus,
    join_plans,
    reverse,
    split_plans,
    undo_deadline,
)
from licensewatch.services import audit
from licensewatch.services.plan_views import LineView as LineView
from licensewatch.services.plan_views import PlanNotFound as PlanNotFound
from licensewatch.services.plan_views import PlanView as PlanView
from licensewatch.services.plan_views import get_plan, line_spec, plan_tenant, plan_view
from licensewatch.services.plan_views import list_plans as list_plans
from licensewatch.services.plan_views import show_plan as show_plan
from licensewatch.services.tenant_lookup import tenant_by_name
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.base import utcnow
from licensewatch.storage.models.plans import ChangePlan, ChangePlanLine


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts (an account name, or `cli:<os user>`) and from which address."""

    name: str
    address: str | None = None


@dataclass(frozen=True, slots=True)
class NewLine:
    user_id: str
    user_principal_name: str | None
    spec: LineSpec
    reason: str | None = None
    monthly_saving: Decimal | None = None
    currency: str | None = None


def create_plan(
    engine: Engine, tenant_name: str, lines: list[NewLine], actor: Actor, source: str = "manual"
) -> int:
    """Store a draft plan; nothing is sent to Microsoft until it is approved and applied."""
    if not lines:
        raise PlanRefused("the plan has no lines: nothing to change")
    with session_scope(engine) as session:
        tenant = tenant_by_name(session, tenant_name)
        plan = ChangePlan(
            tenant_id=tenant.id, status=PlanStatus.DRAFT, source=source, created_by=actor.name
        )
        session.add(plan)
        session.flush()
        _add_lines(session, plan.id, lines)
        plan_id = plan.id
    audit.record(
        engine,
        "plan.created",
        actor.name,
        actor.address,
        "ok",
        f"plan {plan_id} for tenant {tenant_name}: {len(lines)} lines ({source})",
    )
    return plan_id


def _add_lines(session: Session, plan_id: int, lines: list[NewLine]) -> None:
    for position, line in enumerate(lines, 1):
        session.add(
            ChangePlanLine(
                plan_id=plan_id,
                position=position,
                user_id=line.user_id,
                user_principal_name=line.user_principal_name,
                action=line.spec.action.value,
                sku_id=line.spec.sku_id,
                target_sku_id=line.spec.target_sku_id,
                add_disabled_plans=join_plans(line.spec.add_disabled_plans) or None,
                reason=line.reason,
                monthly_saving=None if line.monthly_saving is None else str(line.monthly_saving),
                currency=line.currency,
                state=LineState.PENDING,
                attempts=0,
            )
        )


def approve_plan(engine: Engine, plan_id: int, actor: Actor) -> PlanView:
    """An admin approves a draft; with four-eyes on, not the admin who created it."""
    try:
        with session_scope(engine) as session:
            plan = get_plan(session, plan_id)
            tenant = plan_tenant(session, plan)
            if plan.status != PlanStatus.DRAFT:
                raise PlanRefused(f"plan {plan_id} is {plan.status}: only a draft can be approved")
            if tenant.four_eyes and actor.name == plan.created_by:
                raise PlanRefused(
                    f"four-eyes is on for tenant {tenant.name}: plan {plan_id} was created by "
                    f"{actor.name}, so another administrator must approve it"
                )
            plan.status, plan.approved_by, plan.approved_at = (
                PlanStatus.APPROVED,
                actor.name,
                utcnow(),
            )
            session.flush()
            view = plan_view(session, plan)
    except PlanRefused as refused:
        audit.record(engine, "plan.approved", actor.name, actor.address, "refused", str(refused))
        raise
    audit.record(engine, "plan.approved", actor.name, actor.address, "ok", f"plan {plan_id}")
    return view


def undo_plan(engine: Engine, plan_id: int, actor: Actor, now: datetime | None = None) -> int:
    """An approved plan reversing every applied line of `plan_id` still within 30 days."""
    now = now or utcnow()
    with session_scope(engine) as session:
        plan = get_plan(session, plan_id)
        rows = session.scalars(
            select(ChangePlanLine)
            .where(ChangePlanLine.plan_id == plan_id)
            .order_by(ChangePlanLine.position)
        ).all()
        undoable = [
            r
            for r in rows
            if r.state in DONE_STATES
            and r.undone_by_plan_id is None
            and r.applied_at
            and undo_deadline(r.applied_at) >= now
        ]
        if not undoable:
            raise PlanRefused(
                f"plan {plan_id} has no applied line left to undo (undo works for 30 days after "
                "a line was applied, once)"
            )
        undo = ChangePlan(
            tenant_id=plan.tenant_id,
            status=PlanStatus.APPROVED,
            source="undo",
            reverses_plan_id=plan_id,
            created_by=actor.name,
            approved_by=actor.name,
            approved_at=now,
        )
        session.add(undo)
        session.flush()
        for position, row in enumerate(undoable, 1):
            spec = line_spec(
                row.action, row.sku_id, row.target_sku_id, split_plans(row.add_disabled_plans)
            )
            back = reverse(spec, split_plans(row.prior_disabled_plans))
            saving = None if row.monthly_saving is None else str(-Decimal(row.monthly_saving))
            session.add(
                ChangePlanLine(
                    plan_id=undo.id,
                    position=position,
                    user_id=row.user_id,
                    user_principal_name=row.user_principal_name,
                    action=back.action.value,
                    sku_id=back.sku_id,
                    target_sku_id=back.target_sku_id,
                    add_disabled_plans=join_plans(back.add_disabled_plans) or None,
                    reason=f"undo of plan {plan_id} line {row.position}",
                    monthly_saving=saving,
                    currency=row.currency,
                    state=LineState.PENDING,
                    attempts=0,
                    reverses_line_id=row.id,
                )
            )
            row.undone_by_plan_id = undo.id
        undo_id = undo.id
    audit.record(
        engine,
        "plan.undone",
        actor.name,
        actor.address,
        "ok",
        f"plan {undo_id} reverses {len(undoable)} lines of plan {plan_id}",
    )
    return undo_id


def set_write_access(
    engine: Engine,
    tenant_name: str,
    actor: Actor,
    *,
    allow_writes: bool | None = None,
    four_eyes: bool | None = None,
) -> None:
    """Turn licence writes (and the four-eyes rule) on or off for a tenant; audited."""
    with session_scope(engine) as session:
        tenant = tenant_by_name(session, tenant_name)
        if allow_writes is not None:
            tenant.allow_writes = allow_writes
        if four_eyes is not None:
            tenant.four_eyes = four_eyes
    if allow_writes is not None:
        action = "tenant.writes_allowed" if allow_writes else "tenant.writes_disallowed"
        audit.record(engine, action, actor.name, actor.address, "ok", f"tenant {tenant_name}")
    if four_eyes is not None:
        state = "on" if four_eyes else "off"
        audit.record(
            engine,
            "tenant.four_eyes",
            actor.name,
            actor.address,
            "ok",
            f"tenant {tenant_name}: four-eyes {state}",
        )
