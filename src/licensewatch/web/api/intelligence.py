"""API: findings, costs, the product catalogue, prices (admin writes) and alerts (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from licensewatch.intelligence.catalog import UnknownProduct
from licensewatch.intelligence.prices import remove_price, set_price
from licensewatch.intelligence.read_models.build import refresh_read_models
from licensewatch.web.auth import ApiAdmin
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
