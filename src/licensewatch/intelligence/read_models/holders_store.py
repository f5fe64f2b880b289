"""The lists stored in list order, kept at publish in its transaction: the products' holders
(`product_holders`) and the users holding no licence in an assigned state (`unlicensed_users`).

A full publish (or a delta after which more than the changed users may differ) writes each
list's rows for the dataset again with one INSERT ... SELECT; a delta whose changed users are
known, over rows that describe the previous publish, deletes and writes again those users' rows
only (a user's licences and UPN are all either list depends on). The key is
computed by the database (lower(UPN)), exactly as the users list orders by it. The build marker
is written last: a reader trusts the rows only when it names the tenant's current dataset and
`updated_at` (a failed or skipped build leaves it naming an older one).

A user holding a product twice (directly and through a group, or through two groups) has one
holders row. On SQLite the table's primary key drops the repeats (INSERT OR IGNORE): a DISTINCT
sorted every row into a temporary B-tree first, ≈ 40 % of the build (docs/performance.md, "The
stored lists' publish cost"). PostgreSQL keeps the DISTINCT (hashed; ON CONFLICT cost as much).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    case,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.orm import Session

from licensewatch.domain.assignment_states import ASSIGNED_STATES
from licensewatch.domain.changed_users import ChangedUsers
from licensewatch.storage.models import Tenant, User, UserLicense
from licensewatch.storage.models.holders import ProductHolder, ProductHolderBuild, UnlicensedUser

log = logging.getLogger(__name__)
_CHUNK = 500
# The users list's runs and keys: no UPN first (by id), then by lower(UPN).
_RUN = case((User.user_principal_name.is_(None), 0), else_=1)
_KEY = func.coalesce(func.lower(User.user_principal_name), User.id)


def publish_holders(
    connection: Connection, tenant_pk: int, changed: ChangedUsers | None = None
) -> None:
    """Store the tenant's product holders and unlicensed users for its current dataset (in a
    savepoint: a failure is logged, undone, and leaves the marker naming an older build)."""
    try:
        with Session(
            bind=connection, autoflush=False, join_transaction_mode="create_savepoint"
        ) as session:
            tenant = session.get(Tenant, tenant_pk)
            if tenant is not None and tenant.dataset_id is not None:
                _publish(session.connection(), tenant, tenant.dataset_id, changed)
            session.commit()
    except Exception:
        log.exception(
            "tenant %s: the product holders and unlicensed users were not stored", tenant_pk
        )


def _publish(
    connection: Connection, tenant: Tenant, dataset: int, changed: ChangedUsers | None
) -> None:
    built = connection.execute(
        select(ProductHolderBuild.dataset_id, ProductHolderBuild.data_at).where(
            ProductHolderBuild.tenant_id == tenant.id
        )
    ).first()
    follows = (
        changed is not None
        and (bool(changed.ids) or not changed.principal_names)  # the users are named by id
        and built is not None
        and built.dataset_id == dataset
        and built.data_at == changed.previous_updated_at
    )
    if follows and changed is not None:
        for chunk in _chunks(sorted(changed.ids)):
            for table in _LISTS:
                mine = (table.dataset_id == dataset, table.user_id.in_(chunk))
                connection.execute(delete(table).where(*mine))
                _insert(connection, table, dataset, User.id.in_(chunk))
    else:
        # Rows exist only for the dataset the marker names (written with it): that one and the
        # current one are cleared, each a range of the primary key.
        stale = {dataset} if built is None else {dataset, built.dataset_id}
        for table in _LISTS:
            connection.execute(delete(table).where(table.dataset_id.in_(stale)))
            _insert(connection, table, dataset, None)
    connection.execute(delete(ProductHolderBuild).where(ProductHolderBuild.tenant_id == tenant.id))
    connection.execute(
        insert(ProductHolderBuild).values(
            tenant_id=tenant.id, dataset_id=dataset, data_at=tenant.updated_at
        )
    )


def _holders(dataset: int) -> Select[Any]:
    """Each product's holders (in any state): one row per assignment, repeats included."""
    return (
        select(UserLicense.dataset_id, UserLicense.sku_id, _RUN, _KEY, User.id)
        .join(User, (User.dataset_id == UserLicense.dataset_id) & (User.id == UserLicense.user_id))
        .where(UserLicense.dataset_id == dataset)
    )


def _unlicensed(dataset: int) -> Select[Any]:
    """The users holding no licence in an assigned state: the users list's `licensed=no`."""
    held = select(literal(1)).where(
        UserLicense.dataset_id == User.dataset_id,
        UserLicense.user_id == User.id,
        UserLicense.state.in_(ASSIGNED_STATES),
    )
    return select(User.dataset_id, _RUN, _KEY, User.id).where(
        User.dataset_id == dataset, ~held.exists()
    )


_LISTS = (ProductHolder, UnlicensedUser)
# Lists whose select may repeat a row (a product held twice): one row each all the same.
_REPEATS = {ProductHolder}
_SOURCES = {
    ProductHolder: (("dataset_id", "sku_id", "run", "key", "user_id"), _holders),
    UnlicensedUser: (("dataset_id", "run", "key", "user_id"), _unlicensed),
}


def _insert(
    connection: Connection,
    table: type[ProductHolder] | type[UnlicensedUser],
    dataset: int,
    only: ColumnElement[bool] | None,
) -> None:
    """A list's rows of the dataset (of some users) by one INSERT ... SELECT."""
    columns, rows = _SOURCES[table]
    query = rows(dataset)
    if only is not None:
        query = query.where(only)
    statement = insert(table)
    if table in _REPEATS:
        if connection.dialect.name == "sqlite":
            statement = statement.prefix_with("OR IGNORE")  # the primary key drops the repeats
        else:
            query = query.distinct()
    connection.execute(statement.from_select(list(columns), query))


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
