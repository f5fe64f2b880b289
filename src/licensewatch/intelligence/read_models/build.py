"""Computing and storing a tenant's read models: at publish, after an admin change, when stale."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from licensewatch.domain.changed_users import ChangedUsers
from licensewatch.intelligence.costs import attributes, holder_counts, tenant_costs
from licensewatch.intelligence.findings import findings_in_session
from licensewatch.intelligence.findings.base import FindingRule
from licensewatch.intelligence.read_models import costs_store, findings_store
from licensewatch.intelligence.read_models.costs_delta import update_costs
from licensewatch.intelligence.read_models.fingerprint import Inputs, as_of, load_inputs
from licensewatch.intelligence.read_models.holders_store import publish_holders
from licensewatch.intelligence.read_models.incremental import (
    both_inputs,
    update_changed_users,
)
from licensewatch.intelligence.read_models.recommendations_build import (
    publish_after_sync,
    refresh_recommendations,
)
from licensewatch.intelligence.renewal_growth_store import publish_growth
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant, utcnow

log = logging.getLogger(__name__)
ALL_RULES: tuple[FindingRule, ...] = tuple(FindingRule)


def stale_rules(
    session: Session, tenant_pk: int, inputs: Inputs, rules: Collection[FindingRule] = ALL_RULES
) -> list[FindingRule]:
    """The rules whose stored summary is missing or was computed from other inputs."""
    stored = findings_store.summaries(session, tenant_pk)
    return [
        rule
        for rule in rules
        if (summary := stored.get(rule)) is None or summary.fingerprint != inputs.finding(rule)
    ]


def costs_stale(session: Session, tenant_pk: int, inputs: Inputs) -> bool:
    stored = costs_store.summary(session, tenant_pk)
    return stored is None or stored.fingerprint != inputs.costs()


def build(
    session: Session,
    tenant: Tenant,
    now: datetime,
    *,
    rules: Collection[FindingRule],
    costs: bool,
) -> None:
    """Compute and store these rules (and the costs) in the session's transaction.

    The inputs are read in the same transaction before the rules run: a change committed in
    between (PostgreSQL) leaves an older fingerprint over newer rows, never the reverse, so the
    next reader rebuilds rather than trusting stale rows.
    """
    inputs = load_inputs(session, tenant, now)
    computed_at = utcnow()
    for rule in rules:
        started = time.perf_counter()
        (finding,) = findings_in_session(session, tenant, now=as_of(now), rules={rule})
        findings_store.write_finding(
            session,
            tenant.id,
            finding,
            dataset_id=tenant.dataset_id,
            fingerprint=inputs.finding(rule),
            computed_at=computed_at,
            build_ms=_ms(started),
        )
    if costs:
        started = time.perf_counter()
        holders = holder_counts(session, tenant, attributes(session))
        result = tenant_costs(session, tenant, holders)
        costs_store.write_holders(session, tenant.id, holders)
        costs_store.write_costs(
            session,
            tenant.id,
            result,
            dataset_id=tenant.dataset_id,
            fingerprint=inputs.costs(),
            computed_at=computed_at,
            build_ms=_ms(started),
        )


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def publish_read_models(
    connection: Connection,
    tenant_pk: int,
    /,
    changed: ChangedUsers | None = None,
    *,
    usage_follows: bool = False,
) -> None:
    """The sync's publish callback: every read model of the tenant, in the publish transaction.

    After a delta (`changed`), the user rules and the costs stored for the previous dataset
    follow the changed users only (`incremental`, `costs_delta`); the other rules are built in
    full (a few rows each); the recommendations likewise, unless `usage_follows` (usage reports
    are collected next: they are built once, then, `recommendations_build`).
    Inside a savepoint: a failing build is logged and undone, the sync still publishes, and the
    fingerprints (which name the new dataset) make the first reader rebuild it.
    """
    try:
        # In a SAVEPOINT of the publish transaction: commit() releases it (the publish commits
        # later, or rolls everything back), an exception rolls back to it.
        with Session(
            bind=connection, autoflush=False, join_transaction_mode="create_savepoint"
        ) as session:
            tenant = session.get(Tenant, tenant_pk)
            if tenant is not None:
                now = utcnow()
                rules, costs = ALL_RULES, True
                if changed is not None and (inputs := both_inputs(session, tenant, now, changed)):
                    rules = tuple(update_changed_users(session, tenant, now, changed, *inputs))
                    costs = not update_costs(session, tenant, *inputs, changed)
                build(session, tenant, now, rules=rules, costs=costs)
            session.commit()
    except Exception:
        log.exception("tenant %s: the findings and costs read models were not built", tenant_pk)
    publish_holders(connection, tenant_pk, changed)  # its own savepoint
    publish_growth(connection, tenant_pk)  # its own savepoint: the day of this snapshot
    publish_after_sync(connection, tenant_pk, changed, usage_follows=usage_follows)  # a savepoint


def refresh(
    engine: Engine,
    tenant_pk: int,
    now: datetime | None = None,
    *,
    rules: Collection[FindingRule] = ALL_RULES,
    costs: bool = True,
) -> None:
    """Rebuild what is stale of a tenant's read models (of `rules`, and the costs if asked).

    The tenant row is locked first (PostgreSQL; SQLite writers are serial anyway), then the
    staleness is checked again: two readers finding the same stale rule build it once.
    """
    now = now or utcnow()
    with session_scope(engine) as session:
        statement = select(Tenant).where(Tenant.id == tenant_pk)
        if engine.dialect.name == "postgresql":
            statement = statement.with_for_update()
        tenant = session.scalars(statement).one_or_none()
        if tenant is None:
            return
        inputs = load_inputs(session, tenant, now)
        todo = stale_rules(session, tenant_pk, inputs, rules)
        redo_costs = costs and costs_stale(session, tenant_pk, inputs)
        if todo or redo_costs:
            build(session, tenant, now, rules=todo, costs=redo_costs)


def refresh_read_models(engine: Engine, now: datetime | None = None) -> None:
    """After an admin changed an input (prices, exclusions, settings, names): every tenant."""
    with session_scope(engine, write=False) as session:
        tenants = list(session.scalars(select(Tenant.id).order_by(Tenant.id)))
    for tenant_pk in tenants:
        refresh(engine, tenant_pk, now)
        refresh_recommendations(engine, tenant_pk, now)
