"""Users: search with filters, and one user's account state and licences."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from licensewatch.intelligence.history import ChangeQuery, change_history
from licensewatch.web import scope
from licensewatch.web.auth import PageCaller
from licensewatch.web.context import reader
from licensewatch.web.paging import Cursor, Offset
from licensewatch.web.queries.common import tenant_refs
from licensewatch.web.queries.products import product_choices
from licensewatch.web.queries.user_list import UserFilter, search_users
from licensewatch.web.queries.users import user_detail
from licensewatch.web.templating import render

router = APIRouter()
Reader = Annotated[Session, Depends(reader)]
PAGE_SIZE = 50
HISTORY = 20  # the newest changes on a user's page; the changes page has them all


@router.get("/users")
def users_page(
    request: Request,
    caller: PageCaller,
    session: Reader,
    tenant: str = "",
    q: str = "",
    licensed: str = "",
    state: str = "",
    kind: str = "",
    department: str = "",
    country: str = "",
    sku_id: str = "",
    offset: Offset = 0,
    cursor: Cursor = "",
) -> Response:
    refs = tenant_refs(session)
    chosen = scope.chosen(refs, tenant)
    filters = UserFilter(q, licensed, state, kind, department, country, sku_id)
    query = {
        k: v
        for k, v in dict(
            tenant=tenant, q=q, licensed=licensed, state=state, kind=kind,
            department=department, country=country, sku_id=sku_id,
        ).items()
        if v
    }  # fmt: skip
    return render(
        request,
        "users.html",
        caller,
        tenants=refs,
        filters=filters,
        selected=tenant,
        products=product_choices(session, chosen),
        page=search_users(session, chosen, filters, limit=PAGE_SIZE, offset=offset, cursor=cursor),
        query=urlencode(query),
        cursor=cursor,
    )


@router.get("/tenants/{name}/users/{user_id}")
def user_page(
    name: str, user_id: str, request: Request, caller: PageCaller, session: Reader
) -> Response:
    refs = tenant_refs(session, name)
    detail = user_detail(session, refs[0], user_id) if refs else None
    if detail is None:
        raise HTTPException(404, f"No user {user_id!r} in tenant {name!r}.")
    recent = change_history(session, ChangeQuery(tenant=name, user_id=user_id), limit=HISTORY)
    return render(
        request, "user.html", caller, tenant=name, detail=detail, changes=recent, nav="/users"
    )
