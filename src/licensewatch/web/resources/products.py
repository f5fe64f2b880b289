"""Licences: the balance, one product's detail, its holders (the product page) and subscriptions.

The product page's list is its holders: the page, its `.json` and the API's `.../holders` share
the holders' search and paging; the page's cards come from the product's detail loader.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import HTTPException
from pydantic import BaseModel, Field

from licensewatch.intelligence.history import ChangeQuery, change_history
from licensewatch.web.paging import CursorField, LimitField, OffsetField
from licensewatch.web.queries import products
from licensewatch.web.queries.balance import (
    BalanceRecord,
    TotalsRecord,
    balance_rows,
    combined_rows,
    totals,
)
from licensewatch.web.queries.common import Page, tenant_refs
from licensewatch.web.queries.holders import Holder, holders
from licensewatch.web.queries.products import HistoryPoint, ServicePlan, SubscriptionRow
from licensewatch.web.resources.tenants import tenant_or_404
from licensewatch.web.resources.users import Search
from licensewatch.web.twins import Ask, NoParams, Resource

HISTORY = 20  # the newest changes on a product's page; the changes page has them all


class Balance(BaseModel):
    """Every product's row; totals over the paid products only (free and tenant-wide apart)."""

    rows: list[BalanceRecord]
    totals: TotalsRecord


class ProductDetail(BaseModel):
    balance: BalanceRecord
    service_plans: list[ServicePlan]
    subscriptions: list[SubscriptionRow]
    history: list[HistoryPoint]


class BalanceParams(BaseModel):
    tenant: str | None = None
    combined: Annotated[bool, Field(description="one row per product across tenants")] = False


class TenantParams(BaseModel):
    tenant: str | None = None


class HolderParams(BaseModel):
    search: Search = ""
    limit: LimitField = 50
    offset: OffsetField = 0
    cursor: CursorField = ""


def load_balance(ask: Ask[BalanceParams]) -> Balance:
    tenant = ask.params.tenant
    if tenant:
        tenant_or_404(ask.session, tenant)
    rows = balance_rows(ask.session, tenant)
    rows = combined_rows(rows) if ask.params.combined else rows
    return Balance(
        rows=[BalanceRecord.of(row) for row in rows], totals=TotalsRecord.of(totals(rows))
    )


def load_product(ask: Ask[Any]) -> ProductDetail:
    name, sku_id = ask.path["name"], ask.path["sku_id"]
    ref = tenant_or_404(ask.session, name)
    balance = products.product_balance(ask.session, name, sku_id)
    if balance is None:
        raise HTTPException(404, f"tenant {name!r} has no product {sku_id!r}")
    return ProductDetail(
        balance=BalanceRecord.of(balance),
        service_plans=products.service_plans(ask.session, ref, sku_id),
        subscriptions=products.subscription_rows(ask.session, [ref], sku_id),
        history=products.history(ask.session, ref, sku_id),
    )


def load_holders(ask: Ask[HolderParams]) -> Page[Holder]:
    p, ref = ask.params, tenant_or_404(ask.session, ask.path["name"])
    sku_id = ask.path["sku_id"]
    return holders(
        ask.session, ref, sku_id, search=p.search, limit=p.limit, offset=p.offset, cursor=p.cursor
    )


def product_page(ask: Ask[HolderParams], page: Page[Holder]) -> dict[str, Any]:
    name, sku_id = ask.path["name"], ask.path["sku_id"]
    balance = products.product_balance(ask.session, name, sku_id)
    if balance is None:
        raise HTTPException(404, f"Tenant {name!r} has no product {sku_id!r}.")
    ref = tenant_refs(ask.session, name)[0]
    points = products.history(ask.session, ref, sku_id)
    recent = change_history(ask.session, ChangeQuery(tenant=name, sku_id=sku_id), limit=HISTORY)
    usable = [p.enabled + p.warning for p in points]
    return {
        "tenant": name,
        "row": balance,
        "q": ask.params.search,
        "holders": page,
        "cursor": ask.params.cursor,
        "plans": products.service_plans(ask.session, ref, sku_id),
        "subscriptions": products.subscription_rows(ask.session, [ref], sku_id),
        "history": points,
        "changes": recent,
        "nav": "/",
        "chart_times": [p.captured_at for p in points],
        "chart_series": [
            ("Usable units (enabled + warning)", "line-cap", usable),
            ("Assigned", "line-used", [p.consumed for p in points]),
        ],
    }


def load_subscriptions(ask: Ask[TenantParams]) -> list[SubscriptionRow]:
    tenant = ask.params.tenant
    if tenant:
        tenant_or_404(ask.session, tenant)
    return products.subscription_rows(ask.session, tenant_refs(ask.session, tenant))


# API only: the dashboard (web/pages/dashboard.py) shows the balance with trends and savings.
BALANCE = Resource(
    name="get_balance",
    api_path="/balance",
    params=BalanceParams,
    load=load_balance,
    response_model=Balance,
    tag="licences",
    doc="Per product: units as served, purchased, grace, trial, assigned, available and flags.",
)
PRODUCT = Resource(
    name="get_product",
    api_path="/tenants/{name}/products/{sku_id}",
    params=NoParams,
    load=load_product,
    response_model=ProductDetail,
    tag="licences",
    doc="A product's balance, service plans, subscriptions and unit history.",
)
HOLDERS = Resource(
    name="get_holders",
    api_path="/tenants/{name}/products/{sku_id}/holders",
    page_path="/tenants/{name}/products/{sku_id}",
    params=HolderParams,
    load=load_holders,
    template="product.html",
    page=product_page,
    response_model=Page[Holder],
    tag="licences",
    doc="Who holds the product (direct or through which group), by UPN; follow `next_cursor`.",
)
SUBSCRIPTIONS = Resource(
    name="get_subscriptions",
    api_path="/subscriptions",
    params=TenantParams,
    load=load_subscriptions,
    response_model=list[SubscriptionRow],
    tag="licences",
    doc="Subscriptions by next lifecycle date (renewal, or the end of a grace period).",
)
