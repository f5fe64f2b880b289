"""Who holds one product: keyset pages by user principal name, read from indexes either way.

The list without a search reads the product's holders as a publish stored them in list order
(`product_holders`, intelligence/read_models/holders_store.py): a page is one range of its
primary key then those users' rows, whatever the tenant's size and however few hold it. Until
the tenant's next publish has stored them (or when they name another publish), and for a
search, the users are walked instead: a product most users hold (Microsoft 365 E3: 60 % of a
tenant) by walking the users in UPN order and keeping those who hold it (about `limit / share`
users a page); a product few users hold from the (dataset_id, sku_id) index, only those users
ordered. The switch is at about sqrt(32 × users), where both cost about the same (≈ 15 ms at
300k users); the holder count comes from the SKU's stored aggregates and the tenant size from
the run that wrote the dataset, never from a count.
Search is the users list's: a prefix of the UPN or the display name (web/queries/search.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, and_, bindparam, exists, select
from sqlalchemy.orm import Session

from licensewatch.storage.models.holders import ProductHolder
from licensewatch.storage.models.inventory import Group, Sku, User, UserLicense
from licensewatch.storage.models.runs import SyncRun
from licensewatch.web.queries import keyset
from licensewatch.web.queries.common import Page, TenantRef, clamp
from licensewatch.web.queries.search import UPN_KEY
from licensewatch.web.queries.stored import stored_datasets
from licensewatch.web.queries.user_list import user_runs
from licensewatch.web.queries.walk import END, Position, Run, Walked, walk

LIST = "holders"
FEW = 1_000  # at most this many holders are always read from the product's index
# (run, key, user id, group id or "" for a direct assignment) of the last row shown.
_CURSOR_TYPES = (int, str, str, str)
_USER = (User.dataset_id, User.id, User.user_principal_name, User.display_name,
         User.account_enabled)  # fmt: skip
_ROWS = (
    select(
        UserLicense.user_id,
        UserLicense.assigned_by_group,
        Group.display_name.label("group_name"),
        UserLicense.state,
        UserLicense.error,
    )
    .outerjoin(
        Group,
        and_(Group.tenant_id == bindparam("tenant"), Group.id == UserLicense.assigned_by_group),
    )
    .where(
        UserLicense.dataset_id == bindparam("dataset"),
        UserLicense.sku_id == bindparam("sku"),
        UserLicense.user_id.in_(bindparam("users", expanding=True)),
    )
)


class Holder(BaseModel):
    """A user holding the product, directly or through a group."""

    user_id: str
    user_principal_name: str | None
    display_name: str | None
    account_enabled: bool | None
    assignment: str  # "direct" or "group"
    group_id: str | None
    group_name: str | None
    state: str | None
    error: str | None


def holders(
    session: Session,
    tenant: TenantRef,
    sku_id: str,
    *,
    search: str = "",
    limit: int = 50,
    offset: int = 0,
    cursor: str = "",
) -> Page[Holder]:
    """Who holds the product (every assignment, in any state), by UPN then group.

    BadCursor when the cursor is not one this list gave out.
    """
    limit, offset = clamp(limit, offset)
    start = keyset.decode(LIST, cursor, _CURSOR_TYPES) if cursor else None
    if tenant.dataset_id is None:
        return Page[Holder](items=[], limit=limit, offset=offset, has_more=False)
    dataset, want = tenant.dataset_id, offset + limit + 1
    position: Position | None = None if start is None else (start[0], start[1], start[2])
    # Each user holds the product at least once: want + 1 users give want rows even when the
    # cursor's user has no row left.
    if not search.strip() and _stored(session, tenant):
        walked = _stored_walk(session, dataset, sku_id, position, want + 1)
    else:
        walked = _walk(session, tenant, dataset, sku_id, search, position, want + 1)
    found = _rows(session, tenant, sku_id, walked.rows, start)
    stopped = None if walked.frontier == END else walked.frontier
    shown = found[offset : offset + limit]
    more = len(found) > offset + limit
    next_cursor = None
    if more:
        next_cursor = keyset.encode(LIST, *shown[-1][0])
    elif stopped is not None:  # the read budget ran out: continue after the last user read
        next_cursor = keyset.encode(LIST, *stopped, "\U0010ffff")
    return Page[Holder](
        items=[h for _, h in shown],
        limit=limit,
        offset=offset,
        has_more=more or stopped is not None,
        next_cursor=next_cursor,
    )


def _stored(session: Session, tenant: TenantRef) -> bool:
    """Whether the stored holders describe the tenant's dataset as its last publish left it."""
    return tenant.dataset_id in stored_datasets(session, [tenant.id])


def stored_page(
    dataset: int, sku_id: str, position: Position | None, want: int
) -> Select[int, str, str]:
    """The stored holders' (run, key, user id) from `position` on: a primary-key range."""
    h = ProductHolder
    order = (h.run, h.key, h.user_id)
    query = select(*order).where(h.dataset_id == dataset, h.sku_id == sku_id)
    if position is not None:
        query = query.where(keyset.after(order, position, inclusive=True))
    return query.order_by(*order).limit(want)


def _stored_walk(
    session: Session, dataset: int, sku_id: str, position: Position | None, want: int
) -> Walked:
    """Up to `want` holders from `position` on, read from the product's stored list: one range
    of its primary key however few users hold it, then those users' rows."""
    connection = session.connection()
    listed = list(connection.execute(stored_page(dataset, sku_id, position, want)))
    if not listed:
        return Walked([], END)
    ids = [row.user_id for row in listed]
    users = connection.execute(select(*_USER).where(User.dataset_id == dataset, User.id.in_(ids)))
    by_id: dict[str, Any] = {user.id: user for user in users}
    rows: list[tuple[Position, Any]] = [
        ((r.run, r.key, r.user_id), by_id[r.user_id]) for r in listed if r.user_id in by_id
    ]
    return Walked(rows, rows[-1][0] if len(listed) == want and rows else END)


def _walk(
    session: Session,
    tenant: TenantRef,
    dataset: int,
    sku_id: str,
    search: str,
    position: Position | None,
    want: int,
) -> Walked:
    """The holders by walking the users (a search, or before the first stored build)."""
    connection = session.connection()
    runs = _runs(session, search)
    held = and_(
        UserLicense.dataset_id == User.dataset_id,
        UserLicense.user_id == User.id,
        UserLicense.sku_id == sku_id,
    )
    if _few(session, tenant, sku_id):
        # Every condition inside the runs: the walk reads those users straight, no window. The
        # holders stay a subquery (the database builds its set once): a list of thousands of
        # ids bound from Python cost 30 µs each.
        among = User.id.in_(
            select(UserLicense.user_id).where(
                UserLicense.dataset_id == dataset, UserLicense.sku_id == sku_id
            )
        )
        runs = [Run(r.key, (*r.within, *r.only, among)) for r in runs]
        conditions = []
    else:
        conditions = [exists().where(held)]
    return walk(connection, dataset, runs, _USER, conditions, position, want, inclusive=True)


def _runs(session: Session, search: str) -> list[Run]:
    """The users list's runs, its users without a UPN read from the UPN index.

    `lower(upn) IS NULL` is a range of the (dataset_id, lower(upn)) index (both engines keep
    NULL keys in it); `upn IS NULL` is not, and SQLite answered it by reading every user of
    the dataset through the primary key, twice per page (≈ 105 ms each at 300k users).
    """
    runs = user_runs(session, search)
    if search.strip():
        return runs
    return [Run(runs[0].key, (UPN_KEY.is_(None),)), runs[1]]


def _few(session: Session, tenant: TenantRef, sku_id: str) -> bool:
    """Whether few enough users hold the product to read them from its index."""
    counts = session.execute(
        select(Sku.direct_assigned + Sku.group_assigned + Sku.assignment_errors).where(
            Sku.tenant_id == tenant.id, Sku.sku_id == sku_id
        )
    ).scalar()
    users = session.scalar(select(SyncRun.users_read).where(SyncRun.id == tenant.dataset_id))
    threshold = max(FEW, int((32 * (users or 0)) ** 0.5))
    return counts is not None and counts <= threshold


def _rows(
    session: Session,
    tenant: TenantRef,
    sku_id: str,
    users: list[tuple[Position, Any]],
    start: list[Any] | None,
) -> list[tuple[tuple[int, str, str, str], Holder]]:
    """The assignments of these users (in their order), each user's by group ("" = direct)."""
    if not users:
        return []
    users_ids = [row.id for _, row in users]
    params = {"dataset": tenant.dataset_id, "sku": sku_id, "tenant": tenant.id, "users": users_ids}
    by_user: dict[str, list[Any]] = {}
    for r in session.connection().execute(_ROWS, params):
        by_user.setdefault(r.user_id, []).append(r)
    found = []
    for (run, key, user_id), user in users:
        # The cursor's user comes first again (an inclusive walk): drop the rows already shown.
        # Only that user is compared here; the order between users is the database's.
        shown_up_to = start[3] if start is not None and [run, key, user_id] == start[:3] else None
        for r in sorted(by_user.get(user_id, []), key=lambda r: r.assigned_by_group or ""):
            at = (run, key, user_id, r.assigned_by_group or "")
            if shown_up_to is not None and at[3] <= shown_up_to:
                continue
            holder = Holder(
                user_id=user_id,
                user_principal_name=user.user_principal_name,
                display_name=user.display_name,
                account_enabled=user.account_enabled,
                assignment="group" if r.assigned_by_group else "direct",
                group_id=r.assigned_by_group,
                group_name=r.group_name,
                state=r.state,
                error=r.error,
            )
            found.append((at, holder))
    return found
