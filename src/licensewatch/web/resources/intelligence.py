"""Findings, costs, recommendations, usage reports, the catalogue, prices and alerts (reads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from licensewatch.intelligence.alerts.evaluate import alert_log
from licensewatch.intelligence.alerts.rules import list_rules
from licensewatch.intelligence.catalog import seen_products, unknown_products
from licensewatch.intelligence.costs import TenantCosts
from licensewatch.intelligence.findings import FindingRule
from licensewatch.intelligence.findings.base import Finding
from licensewatch.intelligence.findings.ranking import by_money, total_at_stake
from licensewatch.intelligence.prices import load_prices
from licensewatch.intelligence.read_models.findings_store import StaleCursor
from licensewatch.intelligence.read_models.readers import PAGE_SIZE, stored_costs, stored_findings
from licensewatch.intelligence.recommendations import (
    Action,
    Confidence,
    usage_states,
)
from licensewatch.intelligence.savings import Filters, Savings
from licensewatch.web import scope
from licensewatch.web.context import engine_of
from licensewatch.web.pages.intelligence import (
    alerts_context,
    catalog_context,
    chosen_tenant,
    price_note_of,
    visible_tenants,
)
from licensewatch.web.pages.savings import visible_savings
from licensewatch.web.twins import Ask, NoParams, Resource

T = TypeVar("T")
MAX_LIMIT = 5000
NEXT_CURSOR = "X-Next-Cursor"


class TenantParams(BaseModel):
    tenant: str | None = None


def _per_tenant(ask: Ask[Any], fetch: Callable[[str | None], list[T]]) -> list[T]:
    try:
        return scope.per_tenant(ask.request, ask.params.tenant or None, fetch)
    except LookupError as error:
        raise HTTPException(404, str(error).strip("'\"")) from None


class FindingParams(BaseModel):
    tenant: str | None = None
    rule: FindingRule | None = None
    cursor: str | None = None
    limit: int = PAGE_SIZE


def load_findings(ask: Ask[FindingParams]) -> list[Finding]:
    p, engine = ask.params, engine_of(ask.request)
    chosen_tenant(ask.request, p.tenant or "")  # the page's 404 for a hidden tenant
    if not 0 <= p.limit <= MAX_LIMIT:
        raise HTTPException(422, f"limit must be between 0 and {MAX_LIMIT}")
    if p.cursor and (p.rule is None or p.tenant is None):
        raise HTTPException(422, "a cursor pages one rule of one tenant: pass tenant and rule")
    try:
        return _per_tenant(
            ask, lambda t: stored_findings(engine, t, rule=p.rule, cursor=p.cursor, limit=p.limit)
        )
    except StaleCursor as error:
        raise HTTPException(409, str(error)) from None
    except ValueError as error:
        raise HTTPException(422, str(error)) from None


def findings_page(ask: Ask[FindingParams], findings: list[Finding]) -> dict[str, Any]:
    """The rules most money first; `rule` narrows to one, `cursor` is a later page of it."""
    ranked = by_money(findings)
    return {
        "findings": ranked,
        "total": total_at_stake(ranked),
        "price_note": price_note_of(ask.request),
        "tenants": visible_tenants(ask.request),
        "selected": ask.params.tenant or "",
        "rule": ask.params.rule,
        "paged": bool(ask.params.cursor),
        "page_size": ask.params.limit,
    }


def load_costs(ask: Ask[TenantParams]) -> list[TenantCosts]:
    chosen_tenant(ask.request, ask.params.tenant or "")  # the page's 404 for a hidden tenant
    engine = engine_of(ask.request)
    return _per_tenant(ask, lambda t: stored_costs(engine, t))


def costs_page(ask: Ask[TenantParams], costs: list[TenantCosts]) -> dict[str, Any]:
    return {
        "costs": costs,
        "tenants": visible_tenants(ask.request),
        "selected": ask.params.tenant or "",
        "price_note": price_note_of(ask.request),
    }


class RecommendationParams(BaseModel):
    tenant: str | None = None
    action: str | None = None
    confidence: str | None = None
    cursor: str | None = None
    limit: int = 1000


def _choice(value: str | None, allowed: type[Action] | type[Confidence], name: str) -> None:
    if value is not None and value not in {item.value for item in allowed}:
        choices = ", ".join(item.value for item in allowed)
        raise HTTPException(422, f"{name} must be one of {choices}")


def load_recommendations(ask: Ask[RecommendationParams]) -> Savings:
    """A page of the stored recommendations (most money first) over the caller's tenants."""
    p = ask.params
    _choice(p.action, Action, "action")
    _choice(p.confidence, Confidence, "confidence")
    if not 0 <= p.limit <= MAX_LIMIT:
        raise HTTPException(422, f"limit must be between 0 and {MAX_LIMIT}")
    filters = Filters(p.action, None, p.confidence)
    return visible_savings(
        ask.request, ask.session, p.tenant or "", filters, limit=p.limit, cursor=p.cursor
    )


def recommendations_body(ask: Ask[RecommendationParams], view: Savings) -> JSONResponse:
    """The page as a list; the next page's cursor in `X-Next-Cursor` and a `Link: rel="next"`."""
    headers = {}
    if view.next_cursor is not None:
        following = ask.request.url.include_query_params(cursor=view.next_cursor)
        headers = {NEXT_CURSOR: view.next_cursor, "Link": f'<{following}>; rel="next"'}
    return JSONResponse([r.to_dict() for r in view.items], headers=headers)


class CatalogParams(BaseModel):
    unknown: bool = False


class AlertParams(BaseModel):
    limit: int = 100


def load_alerts(ask: Ask[AlertParams]) -> dict[str, Any]:
    log = alert_log(engine_of(ask.request), min(max(ask.params.limit, 1), 1000))
    return {"rules": list_rules(ask.session), "log": log}


def dicts(ask: Ask[Any], items: list[Any]) -> list[Any]:
    return [item.to_dict() for item in items]


FINDINGS = Resource(
    name="get_findings",
    response_model=list[Any],
    api_path="/findings",
    page_path="/findings",
    params=FindingParams,
    load=load_findings,
    dump=dicts,
    template="findings.html",
    page=findings_page,
    tag="intelligence",
    doc="Every rule per tenant: count, money, fix, and the first `limit` affected users (by UPN) "
    "or products (0: none, at most 5000). `next_cursor` pages one rule: pass it back as "
    "`cursor` with that `tenant` and `rule`; 409 when the findings were recomputed since.",
)
COSTS = Resource(
    name="get_costs",
    response_model=list[Any],
    api_path="/costs",
    page_path="/costs",
    params=TenantParams,
    load=load_costs,
    dump=dicts,
    template="costs.html",
    page=costs_page,
    tag="intelligence",
    doc="Monthly and yearly costs: purchased, assigned, unassigned, by attribute.",
)
# API only: the savings page (resources/renewals.py) lists the recommendations with totals.
RECOMMENDATIONS = Resource(
    name="get_recommendations",
    response_model=list[Any],
    api_path="/recommendations",
    params=RecommendationParams,
    load=load_recommendations,
    dump=recommendations_body,
    tag="recommendations",
    doc="Licence actions per user (remove, downgrade, remove_duplicate, remove_addon), most "
    "money first, each with reason, evidence, confidence and the monthly and yearly saving. At "
    'most `limit` (up to 5000) per call: the `X-Next-Cursor` header (and a `Link: rel="next"`) '
    "starts the next page, passed back as `cursor` with the same filters; 409 when recomputed "
    "since.",
)
USAGE = Resource(
    name="get_usage",
    response_model=list[Any],
    api_path="/usage",
    params=TenantParams,
    load=lambda ask: _per_tenant(ask, lambda t: usage_states(engine_of(ask.request), t)),
    dump=dicts,
    tag="recommendations",
    doc="Per tenant: usage reports as of which date, or why there are none and the fix.",
)
# The page adds the prices and exclusions its forms edit (web/pages/intelligence.py).
CATALOG = Resource(
    page_path="/catalog",
    template="catalog.html",
    page=lambda ask, products: catalog_context(ask.session, products),
    name="get_catalog",
    response_model=list[Any],
    api_path="/catalog",
    params=CatalogParams,
    load=lambda ask: scope.seen_in_scope(
        ask.request,
        unknown_products(ask.session) if ask.params.unknown else seen_products(ask.session),
    ),
    dump=dicts,
    tag="intelligence",
    doc="Products seen in tenants with their friendly name and its source.",
)
PRICES = Resource(
    name="get_prices",
    response_model=list[Any],
    api_path="/prices",
    params=NoParams,
    load=lambda ask: list(load_prices(ask.session).values()),
    dump=dicts,
    tag="intelligence",
    doc="",
)
ALERTS = Resource(
    page_path="/alerts",
    template="alerts.html",
    page=lambda ask, view: {**view, **alerts_context(ask.request, ask.session)},
    name="get_alerts",
    response_model=dict[str, Any],
    api_path="/alerts",
    params=AlertParams,
    load=load_alerts,
    tag="intelligence",
    admin=True,
    doc="Alert rules and the newest log entries (admins only).",
)
