"""The products' holders in list order (`product_holders`), kept at publish in its transaction.

A full publish (or a delta after which more than the changed users may differ) writes the
dataset's rows again with one INSERT ... SELECT; a delta whose changed users are known, over rows
that describe the previous publish, deletes and writes again those users' rows only. The key is
computed by the database (lower(UPN)), exactly as the users list orders by it. The build marker
is written last: a reader trusts the rows only when it names the tenant's current dataset and
`updated_at` (a failed or skipped build leaves it naming an older one).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from sqlalchemy import ColumnElement, Connection, case, delete, func, insert, select
from sqlalchemy.orm import Session

from licensewatch.domain.changed_users import ChangedUsers
from licensewatch.storage.models import Tenant, User, UserLicense
from licensewatch.storage.models.holders import ProductHolder, ProductHolderBuild

log = logging.getLogger(__name__)
_CHUNK = 500
_COLUMNS = ("dataset_id", "sku_id", "run", "key", "user_id")


def publish_holders(
    connection: Connection, tenant_pk: int, changed: ChangedUsers | None = None
) -> None:
    """Store the tenant's product holders for its current dataset (in a savepoint: a failure is
    logged, undone, and leaves the marker naming an older build)."""
    try:
        with Session(
            bind=connection, autoflush=False, join_transaction_mode="create_savepoint"
        ) as session:
            tenant = session.get(Tenant, tenant_pk)
            if tenant is not None and tenant.dataset_id is not None:
                _publish(session.connection(), tenant, tenant.dataset_id, changed)
            session.commit()
    except Exception:
        log.exception("tenant %s: the product holders were not stored", tenant_pk)


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
            connection.execute(
                delete(ProductHolder).where(
                    ProductHolder.dataset_id == dataset, ProductHolder.user_id.in_(chunk)
                )
            )
            _insert(connection, dataset, User.id.in_(chunk))
    else:
        # Rows exist only for the dataset the marker names (written with it): that one and the
        # current one are cleared, each a range of the primary key.
        stale = {dataset} if built is None else {dataset, built.dataset_id}
        connection.execute(delete(ProductHolder).where(ProductHolder.dataset_id.in_(stale)))
        _insert(connection, dataset, None)
    connection.execute(delete(ProductHolderBuild).where(ProductHolderBuild.tenant_id == tenant.id))
    connection.execute(
        insert(ProductHolderBuild).values(
            tenant_id=tenant.id, dataset_id=dataset, data_at=tenant.updated_at
        )
    )


def _insert(connection: Connection, dataset: int, only: ColumnElement[bool] | None) -> None:
    """The holders of the dataset (of some users) by one INSERT ... SELECT."""
    upn = User.user_principal_name
    query = (
        select(
            UserLicense.dataset_id,
            UserLicense.sku_id,
            case((upn.is_(None), 0), else_=1),
            func.coalesce(func.lower(upn), User.id),
            User.id,
        )
        .distinct()
        .join(User, (User.dataset_id == UserLicense.dataset_id) & (User.id == UserLicense.user_id))
        .where(UserLicense.dataset_id == dataset)
    )
    if only is not None:
        query = query.where(only)
    connection.execute(insert(ProductHolder).from_select(list(_COLUMNS), query))


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
