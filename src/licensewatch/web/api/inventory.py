"""API: the licence balance, one product's detail and holders, and subscriptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from licensewatch.web.auth import ApiCaller
from licensewatch.web.context import reader
from licensewatch.web.paging import Cursor, Limit, Offset
from licensewatch.web.queries import products
from licensewatch.web.queries.balance import (
    BalanceRecord,
    TotalsRecord,
    balance_rows,
    combined_rows,
    totals,
)
from licensewatch.web.queries.common import Page, TenantRef, tenant_refs
from licensewatch.web.queries.holders import Holder, holders
from licensewatch.web.queries.products import HistoryPoint, ServicePlan, SubscriptionRow

router = APIRouter(tags=["licences"])
Reader = Annotated[Session, Depends(reader)]


class Balance(BaseModel):
    """Every product's row; totals over the paid products only (free and tenant-wide apart)."""

    rows: list[BalanceRecord]
    totals: TotalsRecord


class ProductDetail(BaseModel):
    balance: BalanceRecord
    service_plans: list[ServicePlan]
    subscriptions: list[SubscriptionRow]
    history: list[HistoryPoint]


def tenant_or_404(session: Session, name: str) -> TenantRef:
    refs = tenant_refs(session, name)
    if not refs:
        raise HTTPException(404, f"no tenant named {name!r}")
    return refs[0]


@router.get("/balance", response_model=Balance)
def get_balance(
    caller: ApiCaller,
    session: Reader,
    tenant: str | None = None,
    combined: Annotated[bool, Query(description="one row per product across tenants")] = False,
) -> Balance:
    """Per product: units as served, purchased, grace, trial, assigned, available and flags."""
    if tenant:
        tenant_or_404(session, tenant)
    rows = balance_rows(session, tenant)
    rows = combined_rows(rows) if combined else rows
    return Balance(
        rows=[BalanceRecord.of(row) for row in rows], totals=TotalsRecord.of(totals(rows))
    )


@router.get("/tenants/{name}/products/{sku_id}", response_model=ProductDetail)
def get_product(name: str, sku_id: str, caller: ApiCaller, session: Reader) -> ProductDetail:
    """A product's balance, service plans, subscriptions and unit history."""
    ref = tenant_or_404(session, name)
    balance = products.product_balance(session, name, sku_id)
    if balance is None:
        raise HTTPException(404, f"tenant {name!r} has no product {sku_id!r}")
    return ProductDetail(
        balance=BalanceRecord.of(balance),
        service_plans=products.service_plans(session, ref, sku_id),
        subscriptions=products.subscription_rows(session, [ref], sku_id),
        history=products.history(session, ref, sku_id),
    )


@router.get("/tenants/{name}/products/{sku_id}/holders", response_model=Page[Holder])
def get_holders(
    name: str,
    sku_id: str,
    caller: ApiCaller,
    session: Reader,
    search: Annotated[
        str,
        Query(description="the start of a user principal name or display name, in any case"),
    ] = "",
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Cursor = "",
) -> Page[Holder]:
    """Who holds the product (direct or through which group), by UPN; follow `next_cursor`."""
    ref = tenant_or_404(session, name)
    return holders(session, ref, sku_id, search=search, limit=limit, offset=offset, cursor=cursor)


@router.get("/subscriptions", response_model=list[SubscriptionRow])
def get_subscriptions(
    caller: ApiCaller, session: Reader, tenant: str | None = None
) -> list[SubscriptionRow]:
    """Subscriptions by next lifecycle date (renewal, or the end of a grace period)."""
    if tenant:
        tenant_or_404(session, tenant)
    return products.subscription_rows(session, tenant_refs(session, tenant))
