"""Change plans' use cases: store a plan, list and show plans, approve, build the undo plan."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from licensewatch.domain.plans import (
    DONE_STATES,
    LineAction,
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
from licensewatch.services.tenant_lookup import tenant_by_name
from licensewatch.storage.database import session_scope
from licensewatch.storage.models.base import utcnow
from licensewatch.storage.models.plans import ChangePlan, ChangePlanLine
from licensewatch.storage.models.tenants import Tenant


class PlanNotFound(LookupError):
    def __init__(self, plan_id: int) -> None:
        super().__init__(f"no change plan {plan_id}: see `licensewatch plan list`")


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
        row.id, row.position, row.user_id, row.user_principal_name, row.action, row.sku_id,
        row.target_sku_id, list(split_plans(row.add_disabled_plans)),
        list(split_plans(row.prior_disabled_plans)), row.reason, row.monthly_saving,
        _yearly(row.monthly_saving), row.currency, row.state, row.attempts, row.request_id,
        row.error_code, row.error, row.applied_at, row.checked_at, row.undone_by_plan_id,
    )  # fmt: skip


def _view(session: Session, plan: ChangePlan, with_lines: bool = True) -> PlanView:
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
        plan.id, tenant.name, plan.status, plan.source, plan.reverses_plan_id, plan.created_by,
        plan.created_at, plan.approved_by, plan.approved_at, plan.applied_by, plan.applied_at,
        plan.finished_at, plan.confirmed_at, tenant.four_eyes, tenant.allow_writes, str(total),
        str(total * 12), currencies.pop() if len(currencies) == 1 else None, counts,
        [_line_view(r) for r in rows] if with_lines else [],
    )  # fmt: skip


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
        engine, "plan.created", actor.name, actor.address, "ok",
        f"plan {plan_id} for tenant {tenant_name}: {len(lines)} lines ({source})",
    )  # fmt: skip
    return plan_id


def _add_lines(session: Session, plan_id: int, lines: list[NewLine]) -> None:
    for position, line in enumerate(lines, 1):
        session.add(
            ChangePlanLine(
                plan_id=plan_id, position=position, user_id=line.user_id,
                user_principal_name=line.user_principal_name, action=line.spec.action.value,
                sku_id=line.spec.sku_id, target_sku_id=line.spec.target_sku_id,
                add_disabled_plans=join_plans(line.spec.add_disabled_plans) or None,
                reason=line.reason,
                monthly_saving=None if line.monthly_saving is None else str(line.monthly_saving),
                currency=line.currency, state=LineState.PENDING, attempts=0,
            )
        )  # fmt: skip


def plan_tenant(session: Session, plan: ChangePlan) -> Tenant:
    # The foreign key cascades: a plan's tenant exists while the plan does.
    return session.get_one(Tenant, plan.tenant_id)


def _plan(session: Session, plan_id: int) -> ChangePlan:
    plan = session.get(ChangePlan, plan_id)
    if plan is None:
        raise PlanNotFound(plan_id)
    return plan


def show_plan(engine: Engine, plan_id: int) -> PlanView:
    with session_scope(engine, write=False) as session:
        return _view(session, _plan(session, plan_id))


def list_plans(engine: Engine, tenants: list[str] | None = None) -> list[PlanView]:
    """Plans newest first (of these tenants only, when given: the caller's scope)."""
    query = select(ChangePlan).join(Tenant, Tenant.id == ChangePlan.tenant_id)
    if tenants is not None:
        query = query.where(Tenant.name.in_(tenants))
    with session_scope(engine, write=False) as session:
        plans = session.scalars(query.order_by(ChangePlan.id.desc())).all()
        return [_view(session, plan, with_lines=False) for plan in plans]


def approve_plan(engine: Engine, plan_id: int, actor: Actor) -> PlanView:
    """An admin approves a draft; with four-eyes on, not the admin who created it."""
    try:
        with session_scope(engine) as session:
            plan = _plan(session, plan_id)
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
            view = _view(session, plan)
    except PlanRefused as refused:
        audit.record(engine, "plan.approved", actor.name, actor.address, "refused", str(refused))
        raise
    audit.record(engine, "plan.approved", actor.name, actor.address, "ok", f"plan {plan_id}")
    return view


def undo_plan(engine: Engine, plan_id: int, actor: Actor, now: datetime | None = None) -> int:
    """An approved plan reversing every applied line of `plan_id` still within 30 days."""
    now = now or utcnow()
    with session_scope(engine) as session:
        plan = _plan(session, plan_id)
        rows = session.scalars(
            select(ChangePlanLine)
            .where(ChangePlanLine.plan_id == plan_id)
            .order_by(ChangePlanLine.position)
        ).all()
        undoable = [
            r for r in rows
            if r.state in DONE_STATES and r.undone_by_plan_id is None and r.applied_at
            and undo_deadline(r.applied_at) >= now
        ]  # fmt: skip
        if not undoable:
            raise PlanRefused(
                f"plan {plan_id} has no applied line left to undo (undo works for 30 days after "
                "a line was applied, once)"
            )
        undo = ChangePlan(
            tenant_id=plan.tenant_id, status=PlanStatus.APPROVED, source="undo",
            reverses_plan_id=plan_id, created_by=actor.name, approved_by=actor.name,
            approved_at=now,
        )  # fmt: skip
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
                    plan_id=undo.id, position=position, user_id=row.user_id,
                    user_principal_name=row.user_principal_name, action=back.action.value,
                    sku_id=back.sku_id, target_sku_id=back.target_sku_id,
                    add_disabled_plans=join_plans(back.add_disabled_plans) or None,
                    reason=f"undo of plan {plan_id} line {row.position}",
                    monthly_saving=saving, currency=row.currency, state=LineState.PENDING,
                    attempts=0, reverses_line_id=row.id,
                )
            )  # fmt: skip
            row.undone_by_plan_id = undo.id
        undo_id = undo.id
    audit.record(
        engine, "plan.undone", actor.name, actor.address, "ok",
        f"plan {undo_id} reverses {len(undoable)} lines of plan {plan_id}",
    )  # fmt: skip
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
            engine, "tenant.four_eyes", actor.name, actor.address, "ok",
            f"tenant {tenant_name}: four-eyes {state}",
        )  # fmt: skip
