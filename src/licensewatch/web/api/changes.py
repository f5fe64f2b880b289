"""API: the licence change history, filtered and paged (the changes page's twin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy.orm import Session

from licensewatch.intelligence.history import Change
from licensewatch.storage.models import ChangeKind
from licensewatch.web.api.inventory import tenant_or_404
from licensewatch.web.auth import ApiCaller
from licensewatch.web.context import reader
from licensewatch.web.paging import Cursor, Limit, Offset
from licensewatch.web.queries.changes import BadFilter, ChangeFilter, change_page, in_scope
from licensewatch.web.queries.common import Page

router = APIRouter(tags=["changes"])
Reader = Annotated[Session, Depends(reader)]
MOMENT = "a day (YYYY-MM-DD) or an ISO 8601 date-time; without an offset it is UTC"


@router.get("/changes", response_model=Page[Change])
def get_changes(
    caller: ApiCaller,
    session: Reader,
    tenant: str | None = None,
    sku_id: Annotated[str, Query(description="only changes of this product (SKU id)")] = "",
    user: Annotated[str, Query(description="only this user principal name, in any case")] = "",
    user_id: Annotated[str, Query(description="only this user (directory object id)")] = "",
    kind: ChangeKind | None = None,
    since: Annotated[str, Query(description=f"from this moment on: {MOMENT}")] = "",
    until: Annotated[str, Query(description=f"before this moment (a day: its end): {MOMENT}")] = "",
    limit: Limit = 100,
    offset: Offset = 0,
    cursor: Cursor = "",
) -> Page[Change]:
    """Licence changes seen by syncs, newest first, with the products' friendly names."""
    if tenant:
        tenant_or_404(session, tenant)
    kind_value = kind.value if kind is not None else ""
    filters = ChangeFilter(tenant or "", sku_id, user, user_id, kind_value, since, until)
    try:
        query = in_scope(session, filters.query())
    except BadFilter as error:
        raise HTTPException(422, str(error)) from None
    return change_page(session, query, limit=limit, offset=offset, cursor=cursor)
