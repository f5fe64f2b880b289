"""API: findings, costs, the product catalogue, prices (admin writes) and alerts (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from licensewatch.intelligence.alerts.evaluate import alert_log
from licensewatch.intelligence.alerts.rules import list_rules
from licensewatch.intelligence.catalog import UnknownProduct, seen_products, unknown_products
from licensewatch.intelligence.findings import FindingRule
from licensewatch.intelligence.prices import load_prices, remove_price, set_price
from licensewatch.intelligence.read_models.build import refresh_read_models
from licensewatch.intelligence.read_models.findings_store import StaleCursor
from licensewatch.intelligence.read_models.readers import (
    PAGE_SIZE,
    stored_costs,
    stored_findings,
)
from licensewatch.storage.database import session_scope
from licensewatch.web import scope
from licensewatch.web.auth import ApiAdmin, ApiCaller
from licensewatch.web.context import engine_of

router = APIRouter(prefix="/api/v1", tags=["intelligence"])


class PriceIn(BaseModel):
    """A price per licence and term."""

    amount: str
    currency: str = "EUR"
    term: str = "monthly"


def _not_found(error: LookupError) -> HTTPException:
    return HTTPException(404, str(error).strip("'\""))


MAX_LIMIT = 5000


@router.get("/findings")
def get_findings(
    request: Request,
    caller: ApiCaller,
    tenant: str | None = None,
    rule: FindingRule | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> list[Any]:
    """Every rule per tenant: count, money, fix, and the first `limit` affected users (by UPN)
    or products (0: none, at most 5000). `next_cursor` pages one rule: pass it back as
    `cursor` with that `tenant` and `rule`; 409 when the findings were recomputed since."""
    if not 0 <= limit <= MAX_LIMIT:
        raise HTTPException(422, f"limit must be between 0 and {MAX_LIMIT}")
    if cursor and (rule is None or tenant is None):
        raise HTTPException(422, "a cursor pages one rule of one tenant: pass tenant and rule")
    try:
        engine = engine_of(request)
        found = scope.per_tenant(
            request,
            tenant,
            lambda t: stored_findings(engine, t, rule=rule, cursor=cursor, limit=limit),
        )
        return [f.to_dict() for f in found]
    except StaleCursor as error:
        raise HTTPException(409, str(error)) from None
    except LookupError as error:
        raise _not_found(error) from None
    except ValueError as error:
        raise HTTPException(422, str(error)) from None


@router.get("/costs")
def get_costs(request: Request, caller: ApiCaller, tenant: str | None = None) -> list[Any]:
    """Monthly and yearly costs: purchased, assigned, unassigned, by attribute."""
    try:
        engine = engine_of(request)
        return [
            c.to_dict()
            for c in scope.per_tenant(request, tenant, lambda t: stored_costs(engine, t))
        ]
    except LookupError as error:
        raise _not_found(error) from None


@router.get("/catalog")
def get_catalog(request: Request, caller: ApiCaller, unknown: bool = False) -> list[Any]:
    """Products seen in tenants with their friendly name and its source."""
    with session_scope(engine_of(request), write=False) as session:
        products = unknown_products(session) if unknown else seen_products(session)
    return [p.to_dict() for p in scope.seen_in_scope(request, products)]


@router.get("/prices")
def get_prices(request: Request, caller: ApiCaller) -> list[Any]:
    with session_scope(engine_of(request), write=False) as session:
        return [p.to_dict() for p in load_prices(session).values()]


@router.put("/prices/{product}")
def put_price(product: str, body: PriceIn, request: Request, caller: ApiAdmin) -> dict[str, Any]:
    """Set a product's price (by SKU id or part number)."""
    try:
        price = set_price(engine_of(request), product, body.amount, body.currency, body.term)
    except UnknownProduct as error:
        raise HTTPException(404, str(error)) from None
    except ValueError as error:
        raise HTTPException(422, str(error)) from None
    refresh_read_models(engine_of(request))  # findings and costs show the new price at once
    return price.to_dict()


@router.delete("/prices/{product}", status_code=204)
def delete_price(product: str, request: Request, caller: ApiAdmin) -> None:
    try:
        if not remove_price(engine_of(request), product):
            raise HTTPException(404, f"{product} has no price")
    except UnknownProduct as error:
        raise HTTPException(404, str(error)) from None
    refresh_read_models(engine_of(request))


@router.get("/alerts")
def get_alerts(request: Request, caller: ApiAdmin, limit: int = 100) -> dict[str, Any]:
    """Alert rules and the newest log entries (admins only)."""
    engine = engine_of(request)
    with session_scope(engine, write=False) as session:
        rules = list_rules(session)
    return {"rules": rules, "log": alert_log(engine, min(max(limit, 1), 1000))}
