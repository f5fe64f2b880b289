"""Whether the lists a publish stored in list order are current; the unlicensed users as one.

A publish writes the products' holders and the users holding no licence in list order, with a
build marker naming the dataset and `tenants.updated_at` they describe (storage/models/holders.py,
intelligence/read_models/holders_store.py). A reader trusts them only when the marker names the
tenant's dataset as its last publish left it; otherwise it walks the users as before.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from licensewatch.storage.models.holders import ProductHolderBuild, UnlicensedUser
from licensewatch.storage.models.tenants import Tenant
from licensewatch.web.queries.walk import Run, Source

_U = UnlicensedUser
# The unlicensed users as stored: the users list's two runs (no UPN by id, then by lower(UPN)),
# each a range of the (dataset_id, run, key, user_id) primary key.
UNLICENSED = Source(_U.dataset_id, _U.user_id, _U.__table__)
UNLICENSED_RUNS = (Run(_U.key, (_U.run == 0,)), Run(_U.key, (_U.run == 1,)))


def stored_datasets(session: Session, tenant_ids: Collection[int]) -> set[int]:
    """The datasets of these tenants whose stored lists describe them as their last publish left
    them (one query for the lot)."""
    if not tenant_ids:
        return set()
    build = ProductHolderBuild
    current = (
        select(build.dataset_id)
        .join(Tenant, Tenant.id == build.tenant_id)
        .where(
            build.tenant_id.in_(list(tenant_ids)),
            build.dataset_id == Tenant.dataset_id,
            build.data_at == Tenant.updated_at,
        )
    )
    return set(session.scalars(current))
