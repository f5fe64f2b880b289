"""After a delta: the costs' breakdowns follow the changed users' holder counts, not a regrouping.

The breakdowns are computed from stored counts of users per (attribute, value, product)
(`cost_holders`). A delta's users leave the counts of what they were (`ChangedUsers.before`) and
join those of what they are now (read by id), and the breakdowns are computed again from the
counts, by the same function a full build uses; the products' lines and totals come from the
balance rows (a few per tenant) as in a full build.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from licensewatch.domain.changed_users import ATTRIBUTES, ChangedUsers
from licensewatch.intelligence.costs import (
    ASSIGNED_STATES,
    Holders,
    attributes,
    label_of,
    tenant_costs,
)
from licensewatch.intelligence.read_models import costs_store
from licensewatch.intelligence.read_models.fingerprint import Inputs
from licensewatch.storage.models import Tenant, User, UserLicense, utcnow

log = logging.getLogger(__name__)
_CHUNK = 500
Key = tuple[str, str, str]


def update_costs(
    session: Session, tenant: Tenant, inputs: Inputs, previous: Inputs, changed: ChangedUsers
) -> bool:
    """Move the stored costs by the changed users; False: they need a full build instead."""
    stored = costs_store.summary(session, tenant.id)
    if stored is None or stored.fingerprint != previous.costs():
        return False
    chosen = [attribute.value for attribute in attributes(session)]
    if any(attribute not in ATTRIBUTES for attribute in chosen):
        return False
    started = time.perf_counter()
    holders = costs_store.read_holders(session, tenant.id)
    moved: set[Key] = set()
    for before in changed.before.values():
        _move(holders, moved, _keys(chosen, before.attributes, before.skus), -1)
    for values, skus in _now(session, tenant, sorted(changed.ids)):
        _move(holders, moved, _keys(chosen, values, skus), 1)
    if any(holders.get(key, 0) < 0 for key in moved):
        log.warning("tenant %s: stored holder counts disagree with the delta: rebuilt", tenant.id)
        return False
    result = tenant_costs(session, tenant, holders)
    costs_store.write_costs(
        session,
        tenant.id,
        result,
        dataset_id=tenant.dataset_id,
        fingerprint=inputs.costs(),
        computed_at=utcnow(),
        build_ms=int((time.perf_counter() - started) * 1000),
    )
    costs_store.move_holders(session, tenant.id, holders, moved)
    log.debug("tenant %s: the costs follow %d changed users", tenant.id, len(changed.ids))
    return True


def _move(holders: Holders, moved: set[Key], keys: Iterable[Key], step: int) -> None:
    for key in keys:
        holders[key] = holders.get(key, 0) + step
        moved.add(key)


def _keys(chosen: list[str], values: tuple[str | None, ...], skus: Iterable[str]) -> Iterator[Key]:
    """The counts one user adds to: each chosen attribute's value with each product held."""
    for attribute in chosen:
        label = label_of(values[ATTRIBUTES.index(attribute)])
        for sku_id in skus:
            yield attribute, label, sku_id


def _now(
    session: Session, tenant: Tenant, ids: list[str]
) -> Iterator[tuple[tuple[str | None, ...], set[str]]]:
    """The changed users as they are now: their attribute values and the products they hold."""
    columns = [getattr(User, name) for name in ATTRIBUTES]
    for start in range(0, len(ids), _CHUNK):
        statement = (
            select(User.id, *columns, UserLicense.sku_id)
            .join(
                UserLicense,
                and_(UserLicense.dataset_id == User.dataset_id, UserLicense.user_id == User.id),
            )
            .where(
                User.dataset_id == tenant.dataset_id,
                User.id.in_(ids[start : start + _CHUNK]),
                UserLicense.state.in_(ASSIGNED_STATES),
            )
        )
        users: dict[str, tuple[tuple[str | None, ...], set[str]]] = {}
        for row in session.execute(statement):
            values = tuple(row[1:-1])
            users.setdefault(row[0], (values, set()))[1].add(row[-1])
        yield from users.values()
