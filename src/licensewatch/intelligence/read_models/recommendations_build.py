"""Computing and storing a tenant's recommendations: at publish (a delta's changed users only,
when exact: `recommendations_delta`), after usage collection, after an admin change, and by the
first reader that finds them stale (the per-request computation, `recommendations_in_session`, is
the builder: stored and computed are equal by construction).

A sync that collects usage reports right after its publish builds them once: the publish only
follows a delta's changed users (or leaves them stale), the usage commit builds them in full.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from licensewatch.domain.changed_users import ChangedUsers
from licensewatch.intelligence.read_models import recommendations_store as store
from licensewatch.intelligence.read_models.fingerprint import as_of, load_inputs
from licensewatch.intelligence.read_models.recommendations_delta import follow
from licensewatch.intelligence.read_models.recommendations_inputs import (
    facts_digest,
    recommendations_fingerprint,
)
from licensewatch.intelligence.recommendations import recommendations_in_session
from licensewatch.intelligence.recommendations.status import usage_state
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant, utcnow
from licensewatch.storage.models.read_models import RecommendationSummary

log = logging.getLogger(__name__)


def fingerprint_now(session: Session, tenant: Tenant, now: datetime) -> str:
    return recommendations_fingerprint(session, tenant, load_inputs(session, tenant, now))


def is_stale(session: Session, tenant: Tenant, now: datetime) -> bool:
    stored = session.get(RecommendationSummary, tenant.id)
    return stored is None or stored.fingerprint != fingerprint_now(session, tenant, now)


def build(session: Session, tenant: Tenant, now: datetime) -> None:
    """Compute and store the tenant's recommendations in the session's transaction.

    The fingerprint is taken first, in the same transaction: an input committed in between
    (PostgreSQL) leaves an older fingerprint over newer rows, so the next reader rebuilds.
    """
    fingerprint = fingerprint_now(session, tenant, now)
    facts = facts_digest(session, tenant, as_of(now))
    started = time.perf_counter()
    found = recommendations_in_session(session, tenant, now=as_of(now))
    state = usage_state(session, tenant)
    store.write_recommendations(
        session,
        tenant.id,
        found,
        dataset_id=tenant.dataset_id,
        fingerprint=fingerprint,
        facts=facts,
        computed_at=utcnow(),
        build_ms=int((time.perf_counter() - started) * 1000),
        usage_as_of=state.as_of,
    )


def publish_recommendations(connection: Connection, tenant_pk: int, /) -> None:
    """In the transaction that commits usage rows (`OnUsage`), or after a sync that deferred
    them to it and then collected none: built when stale (a savepoint: a failing build is
    logged and undone, the data still commits, and the first reader rebuilds)."""
    _publish(connection, tenant_pk, None, when_stale=True)


def publish_after_sync(
    connection: Connection,
    tenant_pk: int,
    /,
    changed: ChangedUsers | None = None,
    *,
    usage_follows: bool = False,
) -> None:
    """In the publish transaction: a delta's changed users followed when exact, else built in
    full; `usage_follows`: the usage step builds them next, so no full build here (they are then
    stale, by their fingerprint, until it commits: the first reader in between rebuilds)."""
    _publish(connection, tenant_pk, changed, build_all=not usage_follows)


def _publish(
    connection: Connection,
    tenant_pk: int,
    changed: ChangedUsers | None,
    *,
    build_all: bool = True,
    when_stale: bool = False,
) -> None:
    try:
        with Session(
            bind=connection, autoflush=False, join_transaction_mode="create_savepoint"
        ) as session:
            tenant = session.get(Tenant, tenant_pk)
            if tenant is not None:
                now = utcnow()
                followed = changed is not None and follow(session, tenant, now, changed)
                if (
                    not followed
                    and build_all
                    and not (when_stale and not is_stale(session, tenant, now))
                ):
                    build(session, tenant, now)
            session.commit()
    except Exception:
        log.exception("tenant %s: the recommendations read model was not built", tenant_pk)


def refresh_recommendations(engine: Engine, tenant_pk: int, now: datetime | None = None) -> None:
    """Rebuild the tenant's stored recommendations when stale (the tenant row locked first on
    PostgreSQL, then checked again: two readers finding them stale build them once)."""
    now = now or utcnow()
    with session_scope(engine, write=False) as session:  # the common case: fresh, no lock
        tenant = session.get(Tenant, tenant_pk)
        if tenant is None or not is_stale(session, tenant, now):
            return
    with session_scope(engine) as session:
        statement = select(Tenant).where(Tenant.id == tenant_pk)
        if engine.dialect.name == "postgresql":
            statement = statement.with_for_update()
        tenant = session.scalars(statement).one_or_none()
        if tenant is not None and is_stale(session, tenant, now):
            build(session, tenant, now)


def refresh_all_recommendations(engine: Engine, now: datetime | None = None) -> None:
    """After an admin changed an input (prices, exclusions, settings): every stale tenant."""
    with session_scope(engine, write=False) as session:
        tenants = list(session.scalars(select(Tenant.id).order_by(Tenant.id)))
    for tenant_pk in tenants:
        refresh_recommendations(engine, tenant_pk, now)
