"""Subscription finding: subscriptions in Warning or Suspended, and trials about to end."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, and_, or_, select

from licensewatch.intelligence.findings.base import Affected, Context, Finding, FindingRule
from licensewatch.intelligence.money import Cost
from licensewatch.storage.models import Sku, Subscription

LAPSE_FIX = (
    "Renew or reactivate the subscription (Microsoft 365 admin center > Billing > Your "
    "products), or move its users to another product before the date. Graph does not say "
    "whether an Enabled paid subscription auto-renews, so those are listed under renewals, "
    "not here."
)
# In grace (Warning) or suspended: still reversible. LockedOut units are cancelled: when still held
# they are reported by the lapsed-products finding (seats.py), with the same domain numbers.
_TROUBLED = ("Warning", "Suspended")


def _detail(status: str | None, trial: bool, when: str) -> str:
    if status == "Warning":
        return f"expired, in its grace period: its seats are disabled on {when} unless renewed"
    if status == "Suspended":
        return f"suspended: deleted with its data on {when} unless reactivated"
    return f"trial ends on {when}" if trial else f"ends on {when}"


def lapsing_statement(tenant_pk: int, horizon: datetime) -> Select[Subscription, str | None]:
    """Subscriptions in Warning or Suspended, and Enabled trials whose period ends by `horizon`."""
    return (
        select(Subscription, Sku.sku_part_number)
        .outerjoin(
            Sku, and_(Sku.tenant_id == Subscription.tenant_id, Sku.sku_id == Subscription.sku_id)
        )
        .where(
            Subscription.tenant_id == tenant_pk,
            or_(
                Subscription.status.in_(_TROUBLED),
                and_(
                    Subscription.is_trial.is_(True),
                    Subscription.status == "Enabled",
                    Subscription.next_lifecycle_at <= horizon,
                ),
            ),
        )
        .order_by(Subscription.next_lifecycle_at, Subscription.id)
    )


def lapse_detail(sub: Subscription) -> str:
    """What happens to the subscription's seats, and when."""
    when = f"{sub.next_lifecycle_at:%Y-%m-%d}" if sub.next_lifecycle_at else "an unknown date"
    return f"{sub.total_licenses} seats {_detail(sub.status, sub.is_trial, when)}"


def lapsing_subscriptions(context: Context) -> Finding:
    """Subscriptions that will stop: Warning, Suspended, or trials ending within the window."""
    horizon = context.now + timedelta(days=context.lapse_days)
    statement = lapsing_statement(context.tenant_pk, horizon)
    affected: list[Affected] = []
    total = Cost()
    for sub, part in context.session.execute(statement):
        if sub.sku_id in context.excluded:
            continue
        name = context.name(sub.sku_id, part or sub.sku_part_number)
        cost = Cost()
        cost.add(*context.price(sub.sku_id), sub.total_licenses, name)
        total.merge(cost)
        affected.append(Affected(sub.id, name, lapse_detail(sub), [name], sub.total_licenses, cost))
    return Finding(
        FindingRule.LAPSING_SUBSCRIPTIONS,
        "Subscriptions that will lapse",
        context.tenant,
        "products",
        LAPSE_FIX,
        affected,
        len(affected),
        total,
    )
