"""Renewals: the renewal plan per renewing subscription and its calendar by month; savings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from licensewatch.intelligence.renewal_calendar import Month, calendar, totals
from licensewatch.intelligence.renewals import RenewalPlan
from licensewatch.intelligence.savings import ACTION_LABELS, ACTIONS, CONFIDENCES, Savings
from licensewatch.storage.models.base import utcnow
from licensewatch.web import scope
from licensewatch.web.pages.renewals import visible_plans
from licensewatch.web.pages.savings import filters_of, visible_savings
from licensewatch.web.queries import products
from licensewatch.web.queries.common import tenant_refs
from licensewatch.web.twins import Ask, Resource


class Plan(BaseModel):
    """The plans, soonest first, and the next twelve months (then "later") they fall in."""

    plans: list[RenewalPlan]
    calendar: list[dict[str, Any]]


class TenantParams(BaseModel):
    tenant: str | None = None


@dataclass(frozen=True)
class Renewals:
    plans: list[RenewalPlan]
    months: list[Month]


def load_renewals(ask: Ask[TenantParams]) -> Renewals:
    plans = visible_plans(ask.request, ask.session, ask.params.tenant or "")
    return Renewals(plans, calendar(plans, utcnow()))


def plan_body(ask: Ask[TenantParams], view: Renewals) -> Plan:
    return Plan(plans=view.plans, calendar=[m.to_dict() for m in view.months])


def renewals_page(ask: Ask[TenantParams], view: Renewals) -> dict[str, Any]:
    refs, tenant = tenant_refs(ask.session), ask.params.tenant or ""
    return {
        "tenants": refs,
        "selected": tenant,
        "plans": view.plans,
        "months": view.months,
        "total": totals(view.months),
        "subscriptions": products.subscription_rows(ask.session, scope.chosen(refs, tenant)),
    }


class SavingsParams(BaseModel):
    tenant: str | None = None
    action: str = ""
    product: str = ""
    confidence: str = ""


@dataclass(frozen=True)
class SavingsView:
    everything: Savings  # the page's choices and its "at stake" figure
    shown: Savings  # after the filters


def load_savings(ask: Ask[SavingsParams]) -> SavingsView:
    p = ask.params
    everything = visible_savings(ask.request, ask.session, p.tenant or "")
    return SavingsView(everything, everything.narrow(filters_of(p.action, p.product, p.confidence)))


def savings_page(ask: Ask[SavingsParams], view: SavingsView) -> dict[str, Any]:
    p = ask.params
    return {
        "tenants": tenant_refs(ask.session),
        "selected": p.tenant or "",
        "action": p.action,
        "product": p.product,
        "confidence": p.confidence,
        "actions": [(a, ACTION_LABELS.get(a, a)) for a in ACTIONS],
        "labels": ACTION_LABELS,
        "confidences": CONFIDENCES,
        "products": sorted({r.product_name for r in view.everything.items}, key=str.lower),
        "savings": view.shown,
        "at_stake": view.everything.total,
        "query": ask.request.url.query,
    }


RENEWALS = Resource(
    name="get_renewal_plan",
    api_path="/renewals/plan",
    page_path="/renewals",
    params=TenantParams,
    load=load_renewals,
    dump=plan_body,
    template="renewals.html",
    page=renewals_page,
    response_model=Plan,
    tag="renewals",
    doc="Per renewing subscription: units, assigned, reclaimable, growth, buffer, seats, saving.",
)
SAVINGS = Resource(
    name="get_savings",
    response_model=dict[str, Any],
    api_path="/savings",
    page_path="/savings",
    params=SavingsParams,
    load=load_savings,
    dump=lambda ask, view: view.shown.to_dict(),
    template="savings.html",
    page=savings_page,
    tag="savings",
    doc="Yearly saving in total, by action and by product; each recommendation; usage as of.",
)
