"""Users: the filtered, paged list and one user's account state and licences."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import HTTPException
from pydantic import AliasChoices, BaseModel, Field

from licensewatch.intelligence.history import ChangeQuery, change_history
from licensewatch.web import scope
from licensewatch.web.paging import CursorField, LimitField, OffsetField
from licensewatch.web.queries.common import Page, tenant_refs
from licensewatch.web.queries.products import product_choices
from licensewatch.web.queries.user_list import UserFilter, search_users
from licensewatch.web.queries.users import UserDetail, UserRow, user_detail
from licensewatch.web.twins import Ask, NoParams, Resource

HISTORY = 20  # the newest changes on a user's page; the changes page has them all
SEARCH = "the start of a user principal name or display name, in any case"
# The search's name on the page used to be `q`: links and bookmarks with it keep working.
Search = Annotated[str, Field(validation_alias=AliasChoices("search", "q"), description=SEARCH)]


class UserParams(BaseModel):
    """The users list's filters and paging (empty: no filter)."""

    tenant: str | None = None
    search: Search = ""
    licensed: Literal["", "yes", "no"] = ""
    state: Literal["", "enabled", "disabled"] = ""
    kind: Literal["", "member", "guest"] = ""
    department: str = ""
    country: str = ""
    sku_id: str = ""
    limit: LimitField = 50
    offset: OffsetField = 0
    cursor: CursorField = ""

    def filters(self) -> UserFilter:
        return UserFilter(
            self.search,
            self.licensed,
            self.state,
            self.kind,
            self.department,
            self.country,
            self.sku_id,
        )


def load_users(ask: Ask[UserParams]) -> Page[UserRow]:
    p = ask.params
    chosen = scope.chosen(tenant_refs(ask.session), p.tenant or "")
    return search_users(
        ask.session, chosen, p.filters(), limit=p.limit, offset=p.offset, cursor=p.cursor
    )


def users_page(ask: Ask[UserParams], page: Page[UserRow]) -> dict[str, Any]:
    p, refs = ask.params, tenant_refs(ask.session)
    query = p.model_dump(include=set(UserFilter.__dataclass_fields__) | {"tenant"})
    return {
        "tenants": refs,
        "filters": p.filters(),
        "selected": p.tenant or "",
        "products": product_choices(ask.session, scope.chosen(refs, p.tenant or "")),
        "page": page,
        "query": urlencode({k: v for k, v in query.items() if v}),
        "cursor": p.cursor,
    }


def load_user(ask: Ask[NoParams]) -> UserDetail:
    name, user_id = ask.path["name"], ask.path["user_id"]
    refs = tenant_refs(ask.session, name)
    detail = user_detail(ask.session, refs[0], user_id) if refs else None
    if detail is None:
        raise HTTPException(404, f"No user {user_id!r} in tenant {name!r}.")
    return detail


def user_page(ask: Ask[NoParams], detail: UserDetail) -> dict[str, Any]:
    name = ask.path["name"]
    query = ChangeQuery(tenant=name, user_id=ask.path["user_id"])
    recent = change_history(ask.session, query, limit=HISTORY)
    return {"tenant": name, "detail": detail, "changes": recent, "nav": "/users"}


USERS = Resource(
    name="get_users",
    api_path="/users",
    page_path="/users",
    params=UserParams,
    load=load_users,
    template="users.html",
    page=users_page,
    response_model=Page[UserRow],
    tag="users",
    doc="Users tenant by tenant, by user principal name, with the products each holds.\n\n"
    "Follow `next_cursor` for the next page; a page may end early, with `has_more` and a "
    "cursor, when a filter few users match has read its share of the tenant.",
)
USER = Resource(
    name="get_user",
    api_path="/tenants/{name}/users/{user_id}",
    page_path="/tenants/{name}/users/{user_id}",
    params=NoParams,
    load=load_user,
    template="user.html",
    page=user_page,
    response_model=UserDetail,
    tag="users",
    doc="One user's account state and licences.",
)
