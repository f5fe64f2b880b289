"""After applying: each line is confirmed or drifted by the licences the last sync stored."""

from __future__ import annotations

from sqlalchemy import Engine, select

from licensewatch.domain.plans import Holding, LineState, split_plans
from licensewatch.services.plan_views import line_spec
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant, UserLicense
from licensewatch.storage.models.base import utcnow
from licensewatch.storage.models.plans import ChangePlan, ChangePlanLine


def confirm_lines(engine: Engine, plan_id: int, tenant_pk: int) -> None:
    """Each applied line is confirmed or drifted by the licences the last sync stored."""
    with session_scope(engine) as session:
        tenant = session.get_one(Tenant, tenant_pk)
        rows = session.scalars(
            select(ChangePlanLine).where(
                ChangePlanLine.plan_id == plan_id,
                ChangePlanLine.state.in_(
                    [LineState.APPLIED, LineState.CONFIRMED, LineState.DRIFTED]
                ),
            )
        ).all()
        now = utcnow()
        for row in rows:
            held = session.execute(
                select(UserLicense.sku_id, UserLicense.assigned_by_group).where(
                    UserLicense.dataset_id == tenant.dataset_id,
                    UserLicense.user_id == row.user_id,
                    UserLicense.state.in_(["Active", "ActiveWithError"]),
                )
            ).all()
            holdings = [Holding(sku.lower(), group) for sku, group in held]
            spec = line_spec(
                row.action, row.sku_id, row.target_sku_id, split_plans(row.add_disabled_plans)
            )
            row.state = LineState.CONFIRMED if spec.done(holdings) else LineState.DRIFTED
            row.checked_at = now
        plan = session.get_one(ChangePlan, plan_id)
        plan.confirmed_at = now
