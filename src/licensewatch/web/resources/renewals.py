"""Renewals: the renewal plan per renewing subscription and its calendar by month; savings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from pydantic import BaseModel

from licensewatch.intelligence.read_models.recommendations_readers import PAGE_SIZE
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

MAX_LIMIT = 5000


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
    cursor: str | None = None
    limit: int = PAGE_SIZE


def load_savings(ask: Ask[SavingsParams]) -> Savings:
    """The sums over every recommendation the filters keep and one page of them (keyset)."""
    p = ask.params
    if not 0 <= p.limit <= MAX_LIMIT:
        raise HTTPException(422, f"limit must be between 0 and {MAX_LIMIT}")
    filters = filters_of(p.action, p.product, p.confidence)
    return visible_savings(
        ask.request, ask.session, p.tenant or "", filters, limit=p.limit, cursor=p.cursor
    )


def savings_page(ask: Ask[SavingsParams], view: Savings) -> dict[str, Any]:
    p, url = ask.params, ask.request.url
    return {
        "tenants": tenant_refs(ask.session),
        "selected": p.tenant or "",
        "action": p.action,
        "product": p.product,
        "confidence": p.confidence,
        "actions": [(a, ACTION_LABELS.get(a, a)) for a in ACTIONS],
        "labels": ACTION_LABELS,
        "confidences": CONFIDENCES,
        "products": view.all_products,
        "savings": view,
        "query": url.remove_query_params("cursor").query,
        "next_query": url.include_query_params(cursor=view.next_cursor or "").query,
        "paged": bool(p.cursor),
        "page_size": p.limit,
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
    dump=lambda ask, view: view.to_dict(),
    template="savings.html",
    page=savings_page,
    tag="savings",
    doc="Yearly saving in total, by action and by product; usage as of; the first `limit` "
    "recommendations (at most 5000, most money first). Follow `next_cursor` (with the same "
    "filters) for the next ones; 409 when the recommendations were recomputed since.",
)
