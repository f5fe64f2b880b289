"""Product drill-down: holders, service plans, subscriptions and history (renewals: renewals.py)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from licensewatch.intelligence.history import ChangeQuery, change_history
from licensewatch.web.auth import PageCaller
from licensewatch.web.context import reader
from licensewatch.web.paging import Cursor, Offset
from licensewatch.web.queries import products
from licensewatch.web.queries.common import tenant_refs
from licensewatch.web.queries.holders import holders
from licensewatch.web.templating import render

router = APIRouter()
Reader = Annotated[Session, Depends(reader)]
PAGE_SIZE = 50
HISTORY = 20  # the newest changes on a product's page; the changes page has them all


@router.get("/tenants/{name}/products/{sku_id}")
def product_page(
    name: str,
    sku_id: str,
    request: Request,
    caller: PageCaller,
    session: Reader,
    q: str = "",
    offset: Offset = 0,
    cursor: Cursor = "",
) -> Response:
    refs = tenant_refs(session, name)
    balance = products.product_balance(session, name, sku_id) if refs else None
    if balance is None:
        raise HTTPException(404, f"Tenant {name!r} has no product {sku_id!r}.")
    ref = refs[0]
    points = products.history(session, ref, sku_id)
    recent = change_history(session, ChangeQuery(tenant=name, sku_id=sku_id), limit=HISTORY)
    return render(
        request,
        "product.html",
        caller,
        tenant=name,
        row=balance,
        q=q,
        holders=holders(
            session, ref, sku_id, search=q, limit=PAGE_SIZE, offset=offset, cursor=cursor
        ),
        cursor=cursor,
        plans=products.service_plans(session, ref, sku_id),
        subscriptions=products.subscription_rows(session, [ref], sku_id),
        history=points,
        changes=recent,
        nav="/",
        chart_times=[p.captured_at for p in points],
        chart_series=[
            (
                "Usable units (enabled + warning)",
                "line-cap",
                [p.enabled + p.warning for p in points],
            ),
            ("Assigned", "line-used", [p.consumed for p in points]),
        ],
    )


@router.get("/products")
def products_page(caller: PageCaller) -> Response:
    # The dashboard is the list of products (per tenant, with their balance): one place for it.
    return RedirectResponse("/", 307)


@router.get("/tenants/{name}/products")
def tenant_products_page(name: str, caller: PageCaller) -> Response:
    return RedirectResponse(f"/?tenant={quote(name)}", 307)
