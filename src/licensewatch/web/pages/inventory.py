"""Product drill-down: holders, service plans, subscriptions and history (renewals: renewals.py)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from licensewatch.web.auth import PageCaller
from licensewatch.web.context import reader

router = APIRouter()
Reader = Annotated[Session, Depends(reader)]
PAGE_SIZE = 50
HISTORY = 20  # the newest changes on a product's page; the changes page has them all


@router.get("/products")
def products_page(caller: PageCaller) -> Response:
    # The dashboard is the list of products (per tenant, with their balance): one place for it.
    return RedirectResponse("/", 307)


@router.get("/tenants/{name}/products")
def tenant_products_page(name: str, caller: PageCaller) -> Response:
    return RedirectResponse(f"/?tenant={quote(name)}", 307)
