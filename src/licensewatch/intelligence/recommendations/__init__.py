"""Recommendations: per-user licence actions (remove, downgrade, duplicate, add-on), savings."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.catalog import product_names
from licensewatch.intelligence.exclusions import excluded_ids, holder_exclusions
from licensewatch.intelligence.money import rounded
from licensewatch.intelligence.prices import load_prices, unit_price
from licensewatch.intelligence.recommendations.facts import TenantFacts, load_facts
from licensewatch.intelligence.recommendations.model import (
    CONFIDENCE_ORDER,
    CSV_COLUMNS,
    Action,
    Confidence,
    Recommendation,
)
from licensewatch.intelligence.recommendations.rules import Draft, Rules, user_drafts
from licensewatch.intelligence.recommendations.status import UsageState, usage_state
from licensewatch.intelligence.settings import read_settings
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant, utcnow
from licensewatch.storage.queries import tenants_named

__all__ = [
    "CSV_COLUMNS",
    "Action",
    "Confidence",
    "Recommendation",
    "UsageState",
    "order_key",
    "recommendations_in_session",
    "tenant_recommendations",
    "usage_state",
    "usage_states",
]

_ACTION_ORDER = {action: i for i, action in enumerate(Action)}


def _saving(rules: Rules, draft: Draft) -> tuple[Decimal | None, Decimal | None, str | None]:
    """(monthly, yearly, currency): the source's price, less the target's for a downgrade."""
    monthly, currency = rules.price(draft.sku_id)
    if monthly is None:
        return None, None, None
    if draft.action == Action.REMOVE_DUPLICATE:
        monthly = Decimal(0)  # one user holding a SKU twice consumes one unit: nothing to save
    elif draft.target_id is not None:
        target, target_currency = rules.price(draft.target_id)
        if target is None or target_currency != currency:
            return None, None, None
        monthly -= target
    if currency is None:  # a free product without a price: nothing to save
        return Decimal("0.00"), Decimal("0.00"), None
    return rounded(monthly), rounded(monthly * 12), currency


def recommendations_in_session(
    session: Session,
    tenant: Tenant,
    *,
    now: datetime | None = None,
    only: Collection[str] | None = None,
) -> list[Recommendation]:
    """One tenant's recommendations, most money and most confidence first (`only`: of these
    user ids alone: each user's come from that user's facts and the tenant's, `facts.py`)."""
    names = product_names(session)
    prices = load_prices(session)
    facts: TenantFacts = load_facts(session, tenant, now or utcnow(), only)
    parts = {sku_id: sku.part_number for sku_id, sku in facts.skus.items()}

    def name(sku_id: str) -> str:
        return names.display_name(sku_id, parts.get(sku_id, sku_id))

    rules = Rules(
        facts,
        price=lambda sku_id: unit_price(prices, sku_id, parts.get(sku_id)),
        name=name,
        plan_name=lambda plan: names.plan_name(plan, plan),
        disabled_days=int(read_settings(session)["disabled_days"]),
        excluded_skus=frozenset(excluded_ids(session, for_alerts=False)),
    )
    holders = holder_exclusions(session)
    found: list[Recommendation] = []
    for user in facts.users:
        if user.upn.lower() in holders.users:
            continue
        if any(g in holders.groups for h in user.holdings.values() for g in h.groups):
            continue
        for draft in user_drafts(rules, user):
            monthly, yearly, currency = _saving(rules, draft)
            target = draft.target_id
            found.append(
                Recommendation(
                    tenant=facts.name,
                    user_principal_name=user.upn,
                    display_name=user.display_name,
                    action=draft.action.value,
                    sku_id=draft.sku_id,
                    sku_part_number=parts[draft.sku_id],
                    product_name=name(draft.sku_id),
                    target_sku_id=target,
                    target_sku_part_number=parts[target] if target else None,
                    target_product_name=name(target) if target else None,
                    reason=draft.reason,
                    evidence=draft.evidence,
                    confidence=draft.confidence.value,
                    monthly_saving=monthly,
                    yearly_saving=yearly,
                    currency=currency,
                )
            )
    found.sort(
        key=lambda r: order_key(
            r.yearly_saving, r.confidence, r.action, r.user_principal_name, r.sku_part_number
        )
    )
    return found


OrderKey = tuple[Decimal, int, int, str, str]


def order_key(
    yearly: Decimal | None, confidence: str, action: str, upn: str, part: str
) -> OrderKey:
    """The order of a tenant's recommendations: most money, most confidence first (the stored
    rows' positions follow it, and a delta places its new rows by it)."""
    order = CONFIDENCE_ORDER[Confidence(confidence)]
    return (-(yearly or Decimal(0)), order, _ACTION_ORDER[Action(action)], upn.lower(), part)


def tenant_recommendations(
    engine: Engine, tenant_name: str | None = None, *, now: datetime | None = None
) -> list[Recommendation]:
    """Recommendations of one tenant by name, or of every tenant (each in its own snapshot)."""
    with session_scope(engine, write=False) as session:
        statement = select(Tenant.id).order_by(Tenant.name)
        if tenant_name is not None:
            statement = statement.where(Tenant.name == tenant_name)
        ids = list(session.scalars(statement))
    if tenant_name is not None and not ids:
        raise LookupError(f"no tenant named {tenant_name!r}")
    found: list[Recommendation] = []
    for pk in ids:
        with session_scope(engine, write=False) as session:
            tenant = session.get(Tenant, pk)
            if tenant is not None:
                found += recommendations_in_session(session, tenant, now=now)
    return found


def usage_states(engine: Engine, tenant_name: str | None = None) -> list[UsageState]:
    """Each tenant's usage-report state (as of, concealed, missing permission), by name."""
    with session_scope(engine, write=False) as session:
        tenants = tenants_named(session, tenant_name)
        return [usage_state(session, tenant) for tenant in tenants]
