"""Change plans as read: a plan with its lines, savings and state counts (pages, API, CLI)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from licensewatch.domain.plans import LineAction, LineSpec, split_plans
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.plans import ChangePlan, ChangePlanLine
from licensewatch.storage.models.tenants import Tenant


class PlanNotFound(LookupError):
    def __init__(self, plan_id: int) -> None:
        super().__init__(f"no change plan {plan_id}: see `licensewatch plan list`")


@dataclass(frozen=True, slots=True)
class LineView:
    id: int
    position: int
    user_id: str
    user_principal_name: str | None
    action: str
    sku_id: str
    target_sku_id: str | None
    add_disabled_plans: list[str]
    prior_disabled_plans: list[str]
    reason: str | None
    monthly_saving: str | None
    yearly_saving: str | None
    currency: str | None
    state: str
    attempts: int
    request_id: str | None
    error_code: str | None
    error: str | None
    applied_at: datetime | None
    checked_at: datetime | None
    undone_by_plan_id: int | None

    @property
    def spec(self) -> LineSpec:
        return line_spec(self.action, self.sku_id, self.target_sku_id, self.add_disabled_plans)


@dataclass(frozen=True, slots=True)
class PlanView:
    id: int
    tenant: str
    status: str
    source: str
    reverses_plan_id: int | None
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    applied_by: str | None
    applied_at: datetime | None
    finished_at: datetime | None
    confirmed_at: datetime | None
    four_eyes: bool
    writes_allowed: bool
    monthly_saving: str
    yearly_saving: str
    currency: str | None
    counts: dict[str, int]
    lines: list[LineView] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in list(data.items()):
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        for line in data["lines"]:
            for key, value in list(line.items()):
                if isinstance(value, datetime):
                    line[key] = value.isoformat()
        return data


def line_spec(
    action: str, sku_id: str, target: str | None, plans: list[str] | tuple[str, ...]
) -> LineSpec:
    return LineSpec(LineAction(action), sku_id, target, tuple(plans))


def _yearly(monthly: str | None) -> str | None:
    return None if monthly is None else str(Decimal(monthly) * 12)


def _line_view(row: ChangePlanLine) -> LineView:
    return LineView(
        row.id,
        row.position,
        row.user_id,
        row.user_principal_name,
        row.action,
        row.sku_id,
        row.target_sku_id,
        list(split_plans(row.add_disabled_plans)),
        list(split_plans(row.prior_disabled_plans)),
        row.reason,
        row.monthly_saving,
        _yearly(row.monthly_saving),
        row.currency,
        row.state,
        row.attempts,
        row.request_id,
        row.error_code,
        row.error,
        row.applied_at,
        row.checked_at,
        row.undone_by_plan_id,
    )


def plan_view(session: Session, plan: ChangePlan, with_lines: bool = True) -> PlanView:
    tenant = plan_tenant(session, plan)
    rows = session.scalars(
        select(ChangePlanLine)
        .where(ChangePlanLine.plan_id == plan.id)
        .order_by(ChangePlanLine.position)
    ).all()
    total = sum((Decimal(r.monthly_saving) for r in rows if r.monthly_saving), Decimal(0))
    currencies = {r.currency for r in rows if r.currency}
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    return PlanView(
        plan.id,
        tenant.name,
        plan.status,
        plan.source,
        plan.reverses_plan_id,
        plan.created_by,
        plan.created_at,
        plan.approved_by,
        plan.approved_at,
        plan.applied_by,
        plan.applied_at,
        plan.finished_at,
        plan.confirmed_at,
        tenant.four_eyes,
        tenant.allow_writes,
        f"{total:.2f}",
        f"{total * 12:.2f}",
        currencies.pop() if len(currencies) == 1 else None,
        counts,
        [_line_view(r) for r in rows] if with_lines else [],
    )


def plan_tenant(session: Session, plan: ChangePlan) -> Tenant:
    # The foreign key cascades: a plan's tenant exists while the plan does.
    return session.get_one(Tenant, plan.tenant_id)


def get_plan(session: Session, plan_id: int) -> ChangePlan:
    plan = session.get(ChangePlan, plan_id)
    if plan is None:
        raise PlanNotFound(plan_id)
    return plan


def show_plan(engine: Engine, plan_id: int) -> PlanView:
    with session_scope(engine, write=False) as session:
        return plan_view(session, get_plan(session, plan_id))


def list_plans(engine: Engine, tenants: list[str] | None = None) -> list[PlanView]:
    """Plans newest first (of these tenants only, when given: the caller's scope)."""
    query = select(ChangePlan).join(Tenant, Tenant.id == ChangePlan.tenant_id)
    if tenants is not None:
        query = query.where(Tenant.name.in_(tenants))
    with session_scope(engine, write=False) as session:
        plans = session.scalars(query.order_by(ChangePlan.id.desc())).all()
        return [plan_view(session, plan, with_lines=False) for plan in plans]
