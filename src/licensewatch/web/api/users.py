"""API: users (filtered, paged) and one user's licences."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy.orm import Session

from licensewatch.web.api.inventory import tenant_or_404
from licensewatch.web.auth import ApiCaller
from licensewatch.web.context import reader
from licensewatch.web.paging import Cursor, Limit, Offset
from licensewatch.web.queries.common import Page, tenant_refs
from licensewatch.web.queries.user_list import UserFilter, search_users
from licensewatch.web.queries.users import UserDetail, UserRow, user_detail

router = APIRouter(tags=["users"])
Reader = Annotated[Session, Depends(reader)]


@router.get("/users", response_model=Page[UserRow])
def get_users(
    caller: ApiCaller,
    session: Reader,
    tenant: str | None = None,
    search: Annotated[
        str,
        Query(description="the start of a user principal name or display name, in any case"),
    ] = "",
    licensed: Literal["", "yes", "no"] = "",
    state: Literal["", "enabled", "disabled"] = "",
    kind: Literal["", "member", "guest"] = "",
    department: str = "",
    country: str = "",
    sku_id: str = "",
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Cursor = "",
) -> Page[UserRow]:
    """Users tenant by tenant, by user principal name, with the products each holds.

    Follow `next_cursor` for the next page; a page may end early, with `has_more` and a cursor,
    when a filter few users match has read its share of the tenant.
    """
    if tenant:
        tenant_or_404(session, tenant)
    filters = UserFilter(search, licensed, state, kind, department, country, sku_id)
    refs = tenant_refs(session, tenant)
    return search_users(session, refs, filters, limit=limit, offset=offset, cursor=cursor)


@router.get("/tenants/{name}/users/{user_id}", response_model=UserDetail)
def get_user(name: str, user_id: str, caller: ApiCaller, session: Reader) -> UserDetail:
    """One user's account state and licences."""
    detail = user_detail(session, tenant_or_404(session, name), user_id)
    if detail is None:
        raise HTTPException(404, f"no user {user_id!r} in tenant {name!r}")
    return detail
