"""The users list and search: filters, keyset pages tenant by tenant, a bounded read per page.

Order: tenant by tenant (by name), and within a tenant by lower-cased user principal name
(users without one first, by id); a search lists the UPN prefix matches, then the
display-name-only matches (web/queries/search.py). Each tenant is walked on its own index
(web/queries/walk.py): one ordered index range cannot serve several datasets, and sorting them
together would read every user of every tenant on each page.

The unlicensed users without a search (`licensed=no`) are read from the list a publish stored
in the same order (`unlicensed_users`, web/queries/stored.py): a page is a range of it joined to
its users, whatever the share of unlicensed users, with the other filters applied to those users
(still bounded per page). A tenant whose stored list names another publish is walked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, func, literal, or_, select
from sqlalchemy.orm import Session

from licensewatch.intelligence.catalog import product_names
from licensewatch.storage.models.inventory import User, UserLicense
from licensewatch.web.queries import keyset
from licensewatch.web.queries.common import Page, TenantRef, clamp
from licensewatch.web.queries.search import NAME_KEY, UPN_KEY, fold, starts_with
from licensewatch.web.queries.stored import UNLICENSED, UNLICENSED_RUNS, stored_datasets
from licensewatch.web.queries.users import ASSIGNED, LISTED, UserRow, licences_of, user_row
from licensewatch.web.queries.walk import END, Position, Run, Walked, walk

LIST = "users"
# (tenant, run, key, user id) of the last row shown, or of where a page's read stopped.
_CURSOR_TYPES = (str, int, str, str)


@dataclass(frozen=True)
class UserFilter:
    """What the users page and `GET /api/v1/users` filter on (empty = no filter)."""

    search: str = ""
    licensed: str = ""  # "yes" | "no"
    state: str = ""  # "enabled" | "disabled"
    kind: str = ""  # "member" | "guest"
    department: str = ""
    country: str = ""
    sku_id: str = ""


def user_runs(session: Session, search: str) -> list[Run]:
    """The runs of the list: every user by UPN, or a search's two runs of prefix matches."""
    if not search.strip():
        # By lower-cased UPN, as the search's first run: one index (migration 0016) serves both.
        upn = User.user_principal_name
        return [Run(User.id, (upn.is_(None),)), Run(UPN_KEY, (upn.is_not(None),))]
    folded = fold(session, search)
    by_upn = starts_with(UPN_KEY, folded)
    # NOT of a NULL UPN's comparison is NULL, not true: such users are name-only matches.
    name_only = or_(User.user_principal_name.is_(None), ~by_upn)
    return [Run(UPN_KEY, (by_upn,)), Run(NAME_KEY, (starts_with(NAME_KEY, folded),), (name_only,))]


def user_conditions(filters: UserFilter) -> list[ColumnElement[bool]]:
    """The filters other than the search, as conditions on each user."""
    mine = (UserLicense.dataset_id == User.dataset_id, UserLicense.user_id == User.id)
    # SELECT 1, not SELECT *: SQLite then answers the probe from ix_user_licenses_user_state
    # alone (migration 0017), without reading the licence row.
    held = select(literal(1)).where(*mine, ASSIGNED).exists()
    found: list[ColumnElement[bool]] = []
    if filters.licensed == "yes":
        found.append(held)
    elif filters.licensed == "no":
        found.append(~held)
    if filters.state in ("enabled", "disabled"):
        found.append(User.account_enabled.is_(filters.state == "enabled"))
    if filters.kind == "guest":
        found.append(User.user_type == "Guest")
    elif filters.kind == "member":
        found.append(or_(User.user_type.is_(None), User.user_type != "Guest"))
    if filters.department.strip():
        found.append(func.lower(User.department) == filters.department.strip().lower())
    if filters.country.strip():
        found.append(func.lower(User.country) == filters.country.strip().lower())
    if filters.sku_id.strip():
        sku = UserLicense.sku_id == filters.sku_id.strip()
        found.append(select(literal(1)).where(*mine, ASSIGNED, sku).exists())
    return found


def search_users(
    session: Session,
    tenants: list[TenantRef],
    filters: UserFilter,
    *,
    limit: int = 50,
    offset: int = 0,
    cursor: str = "",
) -> Page[UserRow]:
    """One page of the users matching the filters, after `cursor` (or `offset` rows in).

    BadCursor when the cursor is not one this list gave out.
    """
    limit, offset = clamp(limit, offset)
    start = keyset.decode(LIST, cursor, _CURSOR_TYPES) if cursor else None
    want = offset + limit + 1
    found: list[tuple[tuple[str, Position], Any]] = []
    stopped: tuple[str, Position] | None = None
    read = _reader(session, tenants, filters)
    for name, dataset, position in _tenants_from(tenants, start):
        walked = read(dataset, position, want - len(found))
        found += [((name, pos), row) for pos, row in walked.rows]
        if len(found) >= want:
            break
        if walked.frontier != END:  # the read budget ran out inside this tenant
            stopped = (name, walked.frontier)
            break
    shown = found[offset : offset + limit]
    more = len(found) > offset + limit
    next_at = shown[-1][0] if more else stopped
    datasets = {t.dataset_id: t.name for t in tenants if t.dataset_id is not None}
    users = [row for _, row in shown]
    licences = licences_of(session, tenants, users)
    names = product_names(session)
    rows = [
        user_row(datasets[u.dataset_id], u, licences.get((u.dataset_id, u.id), []), names)
        for u in users
    ]
    return Page[UserRow](
        items=rows,
        limit=limit,
        offset=offset,
        has_more=more or stopped is not None,
        next_cursor=None if next_at is None else _encode(next_at),
    )


def _reader(
    session: Session, tenants: list[TenantRef], filters: UserFilter
) -> Callable[[int, Position | None, int], Walked]:
    """How a page reads a tenant's users: (dataset, position, want) -> the users after it."""
    connection = session.connection()
    runs, conditions = user_runs(session, filters.search), user_conditions(filters)
    stored: set[int] = set()
    if filters.licensed == "no" and not filters.search.strip():
        stored = stored_datasets(session, [t.id for t in tenants if t.dataset_id is not None])
    others = user_conditions(replace(filters, licensed=""))  # the stored list is the filter

    def read(dataset: int, position: Position | None, want: int) -> Walked:
        if dataset in stored:
            return walk(
                connection, dataset, UNLICENSED_RUNS, LISTED, others, position, want,
                source=UNLICENSED,
            )  # fmt: skip
        return walk(connection, dataset, runs, LISTED, conditions, position, want)

    return read


def _encode(at: tuple[str, Position]) -> str:
    tenant, (run, key, user_id) = at
    return keyset.encode(LIST, tenant, run, key, user_id)


def _tenants_from(
    tenants: list[TenantRef], start: list[Any] | None
) -> list[tuple[str, int, Position | None]]:
    """(name, dataset, where to continue) of the synced tenants from the cursor's on."""
    synced = [(t.name, t.dataset_id) for t in tenants if t.dataset_id is not None]
    if start is None:
        return [(name, dataset, None) for name, dataset in synced]
    tenant, run, key, user_id = start
    names = [name for name, _ in synced]
    if tenant in names:
        at = names.index(tenant)
        rest = [(name, dataset, None) for name, dataset in synced[at + 1 :]]
        return [(tenant, synced[at][1], (run, key, user_id)), *rest]
    # The cursor's tenant was removed (or left the caller's scope): go on with the next one.
    return [(name, dataset, None) for name, dataset in synced if name > tenant]
