"""Users: how a user is listed, one user's licences, and user×licence rows for exports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session

from licensewatch.domain.assignment_states import ASSIGNED_STATES
from licensewatch.intelligence.catalog import ProductNames, product_names
from licensewatch.storage.models.inventory import Group, Sku, User, UserLicense
from licensewatch.web.queries.common import TenantRef, ids


class UserRow(BaseModel):
    """A user as listed, with the part numbers and friendly names of the products they hold."""

    tenant: str
    id: str
    user_principal_name: str | None
    display_name: str | None
    mail: str | None
    account_enabled: bool | None
    user_type: str | None
    department: str | None
    country: str | None
    job_title: str | None
    licences: list[str]  # part numbers
    products: list[str] = []  # the same products' friendly names, in the same order


class UserLicence(BaseModel):
    """One licence of a user: the product, and how it was assigned."""

    tenant: str
    user_id: str
    user_principal_name: str | None
    display_name: str | None
    account_enabled: bool | None
    user_type: str | None
    department: str | None
    country: str | None
    sku_id: str
    sku_part_number: str | None
    assignment: str
    group_id: str | None
    group_name: str | None
    state: str | None
    error: str | None
    product: str | None = None  # the friendly name (catalogue, override or built-in)


class UserDetail(BaseModel):
    """A user's account state and licences."""

    user: UserRow
    created_at: datetime | None
    usage_location: str | None
    company_name: str | None
    employee_id: str | None
    on_premises_sync_enabled: bool | None
    last_sign_in_at: datetime | None
    licences: list[UserLicence]


def _datasets(tenants: list[TenantRef]) -> dict[int, str]:
    return {t.dataset_id: t.name for t in tenants if t.dataset_id is not None}


_SKU_NAMES = select(Sku.tenant_id, Sku.sku_id, Sku.sku_part_number).where(
    Sku.tenant_id.in_(bindparam("ids", expanding=True))
)
# Held = in an assigned state: an assignment in Error or Disabled does not give the product.
ASSIGNED = UserLicense.state.in_(ASSIGNED_STATES)
_HELD = select(UserLicense.dataset_id, UserLicense.user_id, UserLicense.sku_id).where(
    UserLicense.dataset_id.in_(bindparam("datasets", expanding=True)),
    UserLicense.user_id.in_(bindparam("users", expanding=True)),
    ASSIGNED,
)


def _sku_names(session: Session, tenants: list[TenantRef]) -> dict[tuple[int, str], str]:
    rows = session.connection().execute(_SKU_NAMES, ids(t.id for t in tenants))
    return {(r.tenant_id, r.sku_id): r.sku_part_number for r in rows}


# What a list shows: read as plain rows (Core on the session's connection), no ORM objects.
LISTED = (
    User.dataset_id,
    User.id,
    User.tenant_id,
    User.user_principal_name,
    User.display_name,
    User.mail,
    User.account_enabled,
    User.user_type,
    User.department,
    User.country,
    User.job_title,
)


def user_row(
    tenant: str, user: Any, licences: list[tuple[str, str]], names: ProductNames | None = None
) -> UserRow:
    # `user`: a User, or a row of LISTED (the same attribute names); licences: (sku id, part).
    held = sorted(licences, key=lambda pair: pair[1])
    return UserRow(
        tenant=tenant,
        id=user.id,
        user_principal_name=user.user_principal_name,
        display_name=user.display_name,
        mail=user.mail,
        account_enabled=user.account_enabled,
        user_type=user.user_type,
        department=user.department,
        country=user.country,
        job_title=user.job_title,
        licences=[part for _, part in held],
        products=[names.display_name(sku, part) if names else part for sku, part in held],
    )


def licences_of(
    session: Session, tenants: list[TenantRef], users: list[Any]
) -> dict[tuple[int, str], list[tuple[str, str]]]:
    """Per (dataset, user): the (sku id, part number) of each product held."""
    if not users:
        return {}
    names = _sku_names(session, tenants)
    params = {"datasets": list({u.dataset_id for u in users}), "users": list({u.id for u in users})}
    tenant_of = {u.dataset_id: u.tenant_id for u in users}
    found: dict[tuple[int, str], set[tuple[str, str]]] = defaultdict(set)
    for r in session.connection().execute(_HELD, params):
        part = names.get((tenant_of[r.dataset_id], r.sku_id), r.sku_id)
        found[(r.dataset_id, r.user_id)].add((r.sku_id, part))
    return {key: sorted(values) for key, values in found.items()}


def _licence_query(
    tenants: list[TenantRef],
) -> Select[User, UserLicense, str, str | None]:
    datasets = _datasets(tenants)
    return (
        select(User, UserLicense, Sku.sku_part_number, Group.display_name.label("group_name"))
        .join(
            UserLicense,
            and_(UserLicense.dataset_id == User.dataset_id, UserLicense.user_id == User.id),
        )
        .outerjoin(Sku, and_(Sku.tenant_id == User.tenant_id, Sku.sku_id == UserLicense.sku_id))
        .outerjoin(
            Group,
            and_(Group.tenant_id == User.tenant_id, Group.id == UserLicense.assigned_by_group),
        )
        .where(User.dataset_id.in_(datasets))
    )


def _licence(
    tenant: str,
    user: User,
    licence: UserLicense,
    part: str | None,
    group: str | None,
    names: ProductNames,
) -> UserLicence:
    return UserLicence(
        tenant=tenant,
        user_id=user.id,
        user_principal_name=user.user_principal_name,
        display_name=user.display_name,
        account_enabled=user.account_enabled,
        user_type=user.user_type,
        department=user.department,
        country=user.country,
        sku_id=licence.sku_id,
        sku_part_number=part,
        assignment="group" if licence.assigned_by_group else "direct",
        group_id=licence.assigned_by_group,
        group_name=group,
        state=licence.state,
        error=licence.error,
        product=names.display_name(licence.sku_id, part or licence.sku_id),
    )


def user_licence_rows(session: Session, tenants: list[TenantRef]) -> Iterator[UserLicence]:
    """Every user×licence pair, streamed in user principal name order (for exports)."""
    datasets = _datasets(tenants)
    if not datasets:
        return
    query = _licence_query(tenants).order_by(
        User.dataset_id, User.user_principal_name, User.id, UserLicense.sku_id
    )
    names = product_names(session)
    result = session.execute(query.execution_options(yield_per=1000))
    for user, licence, part, group in result:
        yield _licence(datasets[user.dataset_id], user, licence, part, group, names)


def user_detail(session: Session, tenant: TenantRef, user_id: str) -> UserDetail | None:
    """One user with every licence, or None when the tenant's current dataset lacks them."""
    if tenant.dataset_id is None:
        return None
    user = session.execute(
        select(User).where(User.dataset_id == tenant.dataset_id, User.id == user_id)
    ).scalar_one_or_none()
    if user is None:
        return None
    query = _licence_query([tenant]).where(User.id == user_id).order_by(UserLicense.sku_id)
    names = product_names(session)
    licences = [
        _licence(tenant.name, u, lic, part, grp, names)
        for u, lic, part, grp in session.execute(query)
    ]
    held = {
        (lic.sku_id, lic.sku_part_number or lic.sku_id)
        for lic in licences
        if lic.state in ASSIGNED_STATES  # an assignment in Error or Disabled is not held
    }
    return UserDetail(
        user=user_row(tenant.name, user, sorted(held), names),
        created_at=user.created_at,
        usage_location=user.usage_location,
        company_name=user.company_name,
        employee_id=user.employee_id,
        on_premises_sync_enabled=user.on_premises_sync_enabled,
        last_sign_in_at=user.last_sign_in_at,
        licences=licences,
    )
