"""The `renewal_upcoming` alert: a renewal within N days, with its renewal plan attached."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from licensewatch.intelligence.renewals import PLAN_COLUMNS, RenewalPlan, tenant_plans
from licensewatch.storage.models import Tenant
from licensewatch.storage.models.intelligence import AlertRule
from licensewatch.tabular import write_csv


@dataclass(frozen=True)
class Condition:
    """An open condition: its one-line message and, for a renewal, the plan (JSON-ready)."""

    message: str
    plan: dict[str, Any] | None = None


def plan_text(plan: RenewalPlan) -> str:
    """The plan in one line: the numbers behind the recommendation and the saving."""
    verb = "leaves its grace period" if plan.event == "grace ends" else "renews"
    saving = (
        f"saving {plan.yearly_saving:,.2f} {plan.currency} a year"
        if plan.yearly_saving is not None
        else "no price"
    )
    return (
        f"{plan.product} {verb} on {plan.renews_at:%Y-%m-%d} (in {plan.days_left} days): "
        f"{plan.subscription_units} units, {plan.assigned} assigned, {plan.reclaimable} "
        f"reclaimable, +{plan.growth} growth, {plan.buffer_percent} % buffer → renew at "
        f"{plan.recommended} ({plan.change:+}), {saving}"
    )


def plan_csv(plan: dict[str, Any]) -> bytes:
    """The attached plan: the CSV header and one row, through the export cell rule."""
    out = io.StringIO()
    write_csv(out, PLAN_COLUMNS, [[plan.get(column) for column in PLAN_COLUMNS]])
    return out.getvalue().encode()


def renewals_due(
    session: Session,
    tenant: Tenant,
    rule: AlertRule,
    excluded: set[str],
    now: datetime,
) -> dict[str, Condition]:
    """Paid subscriptions renewing (or leaving grace) within the rule's N days, with their plan."""
    horizon = now + timedelta(days=rule.threshold if rule.threshold is not None else 30.0)
    found: dict[str, Condition] = {}
    for plan in tenant_plans(session, tenant, now=now):
        if plan.renews_at > horizon or plan.sku_id in excluded:
            continue
        if rule.sku_id and plan.sku_id != rule.sku_id:
            continue
        found[f"renewal:{plan.subscription_id}"] = Condition(
            plan_text(plan), plan.model_dump(mode="json")
        )
    return found
